/*
 * fuzz_dns.c - libFuzzer target for dns.c's reply parser.
 *
 * Input: one byte picking the query type, the query name up to a NUL
 * byte, then the reply (its first two bytes are also taken as our query
 * id, so the fuzzer reaches past the id check).  Beyond "no crash, no
 * leak": every kept name fits DNS_NAME_TEXT_MAX, a failed parse keeps no
 * records, and the SRV order is a permutation of the answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t types[] = {
	DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_SRV, DNS_TYPE_CNAME,
};

static uint32_t
counter(void *ud)
{
	uint32_t *n = ud;

	return (*n = *n * 1103515245u + 12345u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_reply r;
	const struct dns_record *ans[DNS_MAX_RECORDS];
	const uint8_t *nul;
	char qname[300];
	uint16_t qtype, id;
	uint32_t seed = 1;
	size_t qlen, i, j;
	int n;

	if (size < 2) {
		return 0;
	}
	qtype = types[data[0] % 4];
	nul = memchr(data + 1, 0, size - 1);
	if (nul == NULL || (qlen = (size_t)(nul - data - 1)) >= sizeof(qname)) {
		return 0;
	}
	memcpy(qname, data + 1, qlen);
	qname[qlen] = '\0';
	data = nul + 1;
	size -= qlen + 2;
	id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	if (dns_reply_parse(data, size, id, qname, qtype, &r) != DNS_OK &&
	    r.nrecords != 0) {
		abort();
	}
	if (r.nrecords > DNS_MAX_RECORDS) {
		abort();
	}
	for (i = 0; i < r.nrecords; i++) {
		if (strlen(r.records[i].name) > DNS_NAME_TEXT_MAX ||
		    strlen(r.records[i].target) > DNS_NAME_TEXT_MAX) {
			abort();
		}
	}
	n = dns_reply_answers(&r, qname, qtype, ans, DNS_MAX_RECORDS);
	if (n < -1 || n > (int)r.nrecords) {
		abort();
	}
	if (qtype == DNS_TYPE_SRV && n > 0) {
		dns_srv_order(ans, (size_t)n, counter, &seed);
		for (i = 0; i < (size_t)n; i++) {
			for (j = i + 1; j < (size_t)n; j++) {
				if (ans[i] == ans[j] || ans[i]->priority >
				    ans[j]->priority) {
					abort();
				}
			}
		}
		(void)dns_srv_unavailable(ans, (size_t)n);
	}
	return 0;
}
