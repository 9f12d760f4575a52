/*
 * sw_awscreds_sts_parse (STS AssumeRole answers, XML) and sw_awscreds_process_parse
 * (credential_process output, JSON) over arbitrary bytes; the first byte picks which, and for
 * STS whether the answer came with HTTP 200 or an error status. A rejected input follows the
 * sw_err contract with the source's name in front; an accepted one has a key id and a secret
 * and, for STS, a session token and an expiry.
 */
#include "fuzz.h"

#include "collector/awscreds_int.h"

#define WHERE "fuzz source"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    sw_awscreds c = {0};
    sw_err err = {0};
    unsigned mode = data[0] % 3;
    sw_status st = mode == 2 ? sw_awscreds_process_parse(data + 1, size - 1, WHERE, &c, &err)
                             : sw_awscreds_sts_parse(mode == 0 ? 200 : 403, data + 1, size - 1,
                                                     WHERE, &c, &err);
    if (st != SW_OK) {
        fuzz_check_err(st, &err);
        FUZZ_CHECK(strncmp(err.msg, WHERE ": ", strlen(WHERE ": ")) == 0 || st == SW_E_NOMEM);
        return 0;
    }
    FUZZ_CHECK(mode != 1);
    FUZZ_CHECK(c.access_key_id[0] != '\0' && c.secret_access_key[0] != '\0');
    FUZZ_CHECK(mode == 2 || (c.session_token[0] != '\0' && c.expires_unix_s > 0));
    sw_awscreds_wipe(&c);
    return 0;
}
