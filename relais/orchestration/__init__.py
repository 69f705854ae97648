"""The Prefect adapter around the cases: the actions a route starts (gathering files,
convening, letters, messages) as Prefect flows and tasks, the outbox dispatcher, the
deadline sweep's flow, institution file sources and message channels. An outer ring, like
``api/``: it reads and changes cases through the public services of ``cases`` only."""
