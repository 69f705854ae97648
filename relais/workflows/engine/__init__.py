"""The route engine: plain Python over python-statemachine.

It knows nothing of HTTP, SQL or Prefect."""
