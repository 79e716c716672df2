// VigilAPI: Swift types generated from Proto/vigil/v1 (see Generated/) and the service's method descriptors.
