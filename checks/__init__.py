"""The workshop's checks: one module per exercise, one test per rubric step.

Installed as `gtcheck.checks`; `gtcheck check` runs them with pytest.
"""
