// VigilNet: epoll event loops, TLS connections, stream multiplexing, TCP server and client.
// Arrives with the network transport issue.
