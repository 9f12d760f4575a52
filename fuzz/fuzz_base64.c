/*
 * Base64 both ways. The input as text: if sw_base64_decode() accepts it, it is padded to a
 * multiple of 4, and re-encoding the bytes gives the input back, except for the unused low bits
 * of the last character, which a lenient decoder may ignore (RFC 4648, 3.5). The input as
 * bytes: encode, check the alphabet and length, decode, compare. Both append after existing
 * buffer contents, and a buffer cap picked by the input must be honoured.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "slawatch/base64.h"
#include "slawatch/buf.h"
#include "slawatch/err.h"

#define BUF_MAX ((size_t)1 << 26)
#define MARK 0xa5

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Index of c in the alphabet, -1 if it is not there. */
static int
sextet(char c)
{
    if (c == '\0')
        return -1;
    const char *p = strchr(alphabet, c);
    return p != NULL ? (int)(p - alphabet) : -1;
}

/* A buffer holding one marker byte, to see that decode and encode append. */
static void
marked_buf(sw_buf *b, size_t max)
{
    sw_buf_init(b, max);
    uint8_t m = MARK;
    if (sw_buf_append(b, &m, 1, NULL) != SW_OK)
        abort();
}

static void
check_canonical(const char *in, const char *out, size_t len)
{
    size_t pad = 0;
    while (pad < 2 && pad < len && in[len - 1 - pad] == '=')
        pad++;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == out[i])
            continue;
        /* Only the last data character may differ, and only in its unused low bits. */
        bool last = pad > 0 && i == len - pad - 1;
        int mask = pad == 1 ? ~3 : ~15;
        int a = sextet(in[i]), b = sextet(out[i]);
        if (!last || a < 0 || b < 0 || (a & mask) != (b & mask)) {
            fprintf(stderr, "re-encoding differs at offset %zu: '%c' vs '%c'\n", i, in[i], out[i]);
            FUZZ_CHECK(!"decode accepted text that does not re-encode to itself");
        }
    }
}

static void
decode_text(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    sw_buf out;
    marked_buf(&out, BUF_MAX);
    sw_err err = {0};
    sw_status st = sw_base64_decode(text, size, &out, &err);
    FUZZ_CHECK(out.len >= 1 && out.data[0] == MARK);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        sw_buf_fini(&out);
        return;
    }
    size_t n = out.len - 1;
    FUZZ_CHECK(size % 4 == 0);
    FUZZ_CHECK(sw_base64_encoded_len(n) == size);

    sw_buf enc;
    sw_buf_init(&enc, BUF_MAX);
    st = sw_base64_encode(out.data + 1, n, &enc, &err);
    FUZZ_CHECK(st == SW_OK);
    FUZZ_CHECK(enc.len == size);
    check_canonical(text, (const char *)enc.data, size);
    sw_buf_fini(&enc);
    sw_buf_fini(&out);
    if (size == 0)
        return;

    /*
     * A cap picked by the input, from below to a little above n: never exceeded. A cap
     * with room to spare (the decoder may reserve a whole quantum, and sw_buf keeps a byte
     * for sw_buf_cstr's NUL) must not fail.
     */
    size_t cap = 1 + (size_t)data[0] % (n + 8);
    sw_buf small;
    sw_buf_init(&small, cap);
    memset(&err, 0, sizeof err);
    st = sw_base64_decode(text, size, &small, &err);
    FUZZ_CHECK(small.len <= cap);
    if (st == SW_OK) {
        FUZZ_CHECK(small.len == n);
    } else {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(st == SW_E_TOOBIG);
        FUZZ_CHECK(cap < n + 4);
    }
    sw_buf_fini(&small);
}

static void
encode_bytes(const uint8_t *data, size_t size)
{
    sw_buf enc;
    marked_buf(&enc, BUF_MAX);
    sw_err err = {0};
    sw_status st = sw_base64_encode(data, size, &enc, &err);
    FUZZ_CHECK(st == SW_OK);
    FUZZ_CHECK(enc.data[0] == MARK);
    size_t len = enc.len - 1;
    const char *text = (const char *)enc.data + 1;
    FUZZ_CHECK(len == sw_base64_encoded_len(size));
    FUZZ_CHECK(len == (size + 2) / 3 * 4);
    size_t pad = (3 - size % 3) % 3;
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(i >= len - pad ? text[i] == '=' : sextet(text[i]) >= 0);

    sw_buf dec;
    marked_buf(&dec, BUF_MAX);
    st = sw_base64_decode(text, len, &dec, &err);
    FUZZ_CHECK(st == SW_OK);
    FUZZ_CHECK(dec.len == size + 1 && dec.data[0] == MARK);
    FUZZ_CHECK(size == 0 || memcmp(dec.data + 1, data, size) == 0);
    sw_buf_fini(&dec);
    sw_buf_fini(&enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_text(data, size);
    encode_bytes(data, size);
    return 0;
}
