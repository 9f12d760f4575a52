/*
 * A ring buffer of samples that grows (doubling) up to its capacity, then overwrites its
 * oldest entry. Owned by one sender, used under its lock.
 */
#include "slawatch/rw_queue.h"

#include <stdlib.h>

struct sw_rw_queue {
    sw_rw_sample *ring;
    size_t cap;      /* slots allocated */
    size_t capacity; /* most samples held */
    size_t head;     /* the oldest sample's slot */
    size_t len;
};

sw_status
sw_rw_queue_new(size_t capacity, sw_rw_queue **ret, sw_err *err)
{
    SW_REQUIRE(capacity >= 1);
    sw_rw_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return sw_err_set(err, SW_E_NOMEM, "remote write: out of memory for a queue");
    q->capacity = capacity;
    *ret = q;
    return SW_OK;
}

void
sw_rw_queue_free(sw_rw_queue *q)
{
    if (q == NULL)
        return;
    for (size_t i = 0; i < q->len; i++)
        sw_rw_hist_free(q->ring[(q->head + i) % q->cap].hist);
    free(q->ring);
    free(q);
}

/* Double the ring (up to the capacity), laying the samples out from slot 0. */
static bool
grow(sw_rw_queue *q)
{
    size_t cap = q->cap == 0 ? 64 : q->cap * 2;
    if (cap > q->capacity)
        cap = q->capacity;
    sw_rw_sample *ring = malloc(cap * sizeof *ring);
    if (ring == NULL)
        return false;
    for (size_t i = 0; i < q->len; i++)
        ring[i] = q->ring[(q->head + i) % q->cap];
    free(q->ring);
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return true;
}

size_t
sw_rw_queue_push(sw_rw_queue *q, sw_rw_sample *s)
{
    size_t dropped = 0;
    if (q->len == q->capacity) {
        sw_rw_hist_free(q->ring[q->head].hist);
        q->head = (q->head + 1) % q->cap;
        q->len--;
        dropped = 1;
    } else if (q->len == q->cap && !grow(q)) {
        sw_rw_hist_free(s->hist);
        s->hist = NULL;
        return 1;
    }
    q->ring[(q->head + q->len) % q->cap] = *s;
    q->len++;
    s->hist = NULL;
    return dropped;
}

size_t
sw_rw_queue_take(sw_rw_queue *q, sw_rw_sample *out, size_t max)
{
    size_t n = q->len < max ? q->len : max;
    for (size_t i = 0; i < n; i++)
        out[i] = q->ring[(q->head + i) % q->cap];
    if (n > 0)
        q->head = (q->head + n) % q->cap;
    q->len -= n;
    return n;
}

size_t
sw_rw_queue_len(const sw_rw_queue *q)
{
    return q->len;
}
