#include <libpq-fe.h>
// The poller that reads every connection's results waits in epoll; an eventfd stops it.
#include <sys/epoll.h>
#include <sys/eventfd.h>
