#ifndef CNATSWIRE_H
#define CNATSWIRE_H

// Small wrappers for what Swift's Glibc module does not export.
#define _GNU_SOURCE 1
#include <pthread.h>
#include <sys/eventfd.h>

static inline int cnats_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

static inline void cnats_set_thread_name(const char *name) {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name);
#endif
}

#endif
