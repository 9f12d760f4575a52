/*
 * Base64 (RFC 4648, standard alphabet, '=' padding) over sw_buf. Stateless.
 */
#include "slawatch/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decoding table: a character's value plus one; 0 marks characters outside the alphabet. */
static const uint8_t value_plus_one[256] = {
    ['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
    ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

size_t
sw_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t
sw_base64_encode_to(const uint8_t *data, size_t n, char *dst)
{
    char *p = dst;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = alphabet[(v >> 6) & 63];
        *p++ = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < n ? (uint32_t)data[i + 1] << 8 : 0);
        *p++ = alphabet[v >> 18];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    return (size_t)(p - dst);
}

sw_status
sw_base64_encode(const uint8_t *data, size_t n, sw_buf *out, sw_err *err)
{
    sw_status st = sw_buf_reserve(out, sw_base64_encoded_len(n), err);
    if (st != SW_OK)
        return st;
    out->len += sw_base64_encode_to(data, n, (char *)out->data + out->len);
    return SW_OK;
}

/* Characters of the last quantum that carry data (2, 3 or 4), or 0 when the padding is bad. */
static int
last_quantum_chars(const char *q)
{
    if (q[2] == '=')
        return q[3] == '=' ? 2 : 0;
    return q[3] == '=' ? 3 : 4;
}

sw_status
sw_base64_decode(const char *text, size_t len, sw_buf *out, sw_err *err)
{
    if (len % 4 != 0)
        return sw_err_set(err, SW_E_PARSE, "base64 length %zu is not a multiple of 4", len);
    if (len == 0)
        return SW_OK;
    int tail = last_quantum_chars(text + len - 4);
    if (tail == 0)
        return sw_err_set(err, SW_E_PARSE, "base64 padding is malformed at offset %zu", len - 2);
    /* Exactly the decoded size, so a buffer capped at that size is enough. */
    sw_status st = sw_buf_reserve(out, len / 4 * 3 - (size_t)(4 - tail), err);
    if (st != SW_OK)
        return st;
    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < len; i += 4) {
        int chars = i + 4 == len ? tail : 4;
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            int d = k < chars ? value_plus_one[(uint8_t)text[i + k]] - 1 : 0;
            if (d < 0)
                return sw_err_set(err, SW_E_PARSE, "bad base64 character at offset %zu",
                                  i + (size_t)k);
            v = v << 6 | (uint32_t)d;
        }
        *p++ = (uint8_t)(v >> 16);
        if (chars > 2)
            *p++ = (uint8_t)(v >> 8);
        if (chars > 3)
            *p++ = (uint8_t)v;
    }
    out->len = (size_t)(p - out->data);
    return SW_OK;
}
