// VigilClient: the async Swift client library. Arrives with the network transport issue.
