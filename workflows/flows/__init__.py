"""The work around the route: letters and messages now; the Prefect flows that run the
route's actions come with the orchestration issue."""
