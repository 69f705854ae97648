"""The route engine: plain Python over python-statemachine; knows nothing of HTTP, SQL or Prefect."""
