"""The HTTP API (FastAPI): the contract of ../shared/spec/http-api.md, access by institution."""
