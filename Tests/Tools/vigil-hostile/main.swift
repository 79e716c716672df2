// Placeholder: the hostile-client tool (docs/RELIABILITY.md) is written here.
print("vigil-hostile: not built yet")
