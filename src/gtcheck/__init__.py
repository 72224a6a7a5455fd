"""gtcheck: checks and grades the DynamoDB Global Tables workshop."""

__version__ = "0.1.0"
