// VigilPOSIX: the only module that calls Glibc for sockets, epoll and eventfd; every syscall through one typed door.
// Arrives with the network transport issue.
