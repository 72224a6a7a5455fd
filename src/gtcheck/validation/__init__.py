"""`gtcheck validate`: proof, with numbers, that an environment works end to end.

A pytest run of its own (the parts are tests in this package, `plugin` collects their
results and writes `validation.json` and `validation.html`); `gtcheck.validate` is the
command-line door onto it.
"""
