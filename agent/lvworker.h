/* SPDX-License-Identifier: MIT */
/*
 * The collector thread: every libvirt call the agent makes runs here, so that a
 * libvirtd that hangs (stopped, deadlocked, a domain stuck in a job) can never
 * hold up the main loop. The main loop asks for a sample, waits for it with a
 * deadline, and goes on publishing (the VMs stale, the host with libvirt_ok =
 * false) and answering signals when the answer does not come; on SIGTERM it
 * publishes "offline" and exits even while this thread is still inside libvirt.
 *
 * The thread owns the connection (struct collect): opening it, retrying with
 * backoff (1 s doubling to 30 s), logging failures once and the recovery once,
 * draining lifecycle events (an undefined domain that no longer exists becomes
 * a removal for the main loop; any other event asks for an early cycle).
 *
 * One domain stuck in libvirt (a QEMU monitor that does not answer, storage that
 * hangs) must not stop the others: when the thread has been inside libvirt too
 * long, the main loop retires it (lvworker_replace) and a new thread, with a
 * connection of its own, answers instead, leaving that domain alone (stale)
 * until the old thread's call returns; the old thread then ends by itself.
 * Not a pure module: it logs. One main thread drives one worker.
 */
#ifndef AGENT_LVWORKER_H
#define AGENT_LVWORKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect.h"

struct lvworker;

struct lvworker_result {
    int rc;                      /* 0, or KG_ENOTCONN / KG_EIO / KG_ENOMEM with err */
    char err[256];
    struct sample_dom *doms;     /* owned by the worker; valid until the next request */
    size_t n;
    struct sample_node node;
    uint64_t mono_ns;            /* when the sample was taken (monotonic) */
    int64_t real_ms;             /* the same, epoch ms */
    char path[16];               /* collect_path, "none" without a connection */
};

struct lvworker_removal {
    char uuid[KG_UUID_LEN + 1];
    char name[KG_NAME_MAX + 1];
};

/* Starts the thread (all signals blocked in it; they belong to the main loop).
 * opt is copied (uri included). 0 and *out, or KG_ENOMEM / KG_EIO. */
int lvworker_start(const struct collect_options *opt, struct lvworker **out);

/* Asks for one sample (connecting first if needed). False, and nothing asked,
 * while the previous request has not been answered: libvirt is hanging. */
bool lvworker_request(struct lvworker *w);

/* True while a request is unanswered; *since_ns (may be NULL) gets the monotonic
 * time it was made, or of the collector's last progress on it (a domain's calls
 * begun or done) when later: how long it has been stuck, not how long it took. */
bool lvworker_pending(struct lvworker *w, uint64_t *since_ns);

/* Waits until the worker has something for the main loop (a result, a removal,
 * an early-cycle wish) or timeout_ns passed. */
void lvworker_wait(struct lvworker *w, uint64_t timeout_ns);

/* Takes the answer to the last request: true and *res (res->doms stays valid
 * until the next lvworker_request), false when none is ready. */
bool lvworker_take_result(struct lvworker *w, struct lvworker_result *res);

/* Takes one removal (a domain undefined and gone). True when *out was filled. */
bool lvworker_take_removal(struct lvworker *w, struct lvworker_removal *out);

/* True (once) when a lifecycle event asked for an early cycle since the last call. */
bool lvworker_take_early(struct lvworker *w);

/* At most this many retired collector threads may be stuck inside libvirt at
 * once; with that many, lvworker_replace refuses and the host goes stale. */
#define LVWORKER_MAX_STUCK 4

/* The collector thread has been inside libvirt on the pending request for at
 * least busy_ns since its last progress: it is retired (left to finish its call
 * and end on its own) and the request goes to a new thread on a new connection,
 * which answers for every domain but the one the old thread hangs on: that one
 * is marked incomplete
 * (published stale) for as long as the call hangs. On the bulk path the new
 * call's NOWAIT skips a domain whose job is held and its record comes back
 * incomplete the same way. True when a new thread took the request; false when
 * nothing is pending, it has not been busy_ns, LVWORKER_MAX_STUCK threads are
 * stuck already, or a thread cannot be started. *what gets (may be NULL) what
 * the old thread hangs on: "VM 'name'" or "libvirt". */
bool lvworker_replace(struct lvworker *w, uint64_t busy_ns, char *what, size_t whatlen);

/* New connection options (SIGHUP): the connection is closed and opened with
 * these at the next request, backoff reset. opt is copied. */
void lvworker_reset(struct lvworker *w, const struct collect_options *opt);

/* Tells the threads to stop (a sample under way ends at its next domain)
 * without waiting; lvworker_stop still has to be called. */
void lvworker_quit(struct lvworker *w);

/* Stops the thread and waits for it at most timeout_ms. True: it ended and
 * everything is freed. False: it (or a retired one) is still inside a libvirt
 * call; it is detached and left to the process's exit (its memory stays
 * reachable, never freed under it). Accepts NULL (true). */
bool lvworker_stop(struct lvworker *w, uint32_t timeout_ms);

#endif
