// VigilService: the business rules (auth, ingest, alerts, users) over a Store. Arrives with the service issue.
