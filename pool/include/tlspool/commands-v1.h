/* tlspool/commands-v1.h -- the TLS Pool's V1 socket protocol, as btls-pool speaks it.
 *
 * Written from the V1 protocol's published facts (identity 20130710tlspool@openfortress.nl):
 * fixed 376-byte packets in host byte order with natural C alignment, one packet per
 * sendmsg(), a file descriptor beside STARTTLS requests and positive STARTTLS responses as
 * one SCM_RIGHTS int. pool/PROTOCOL.md says what the daemon does with each command.
 */
#ifndef TLSPOOL_COMMANDS_V1_H
#define TLSPOOL_COMMANDS_V1_H

#include <stdint.h>

#define TLSPOOL_IDENTITY_V1 "20130710tlspool@openfortress.nl"
#define TLSPOOL_DEFAULT_SOCKET_PATH "/var/run/tlspool.sock"

struct pioc_error {
	int tlserrno;              /* an errno from <errno.h> */
	char message [128];        /* for people; NUL-terminated */
};

struct pioc_ping {
	char YYYYMMDD_producer [8+128];  /* semantics date + producer identity */
};

struct pioc_starttls {
	uint32_t flags;            /* PIOF_STARTTLS_xxx */
	uint32_t local;            /* locally defined bits */
	uint8_t ipproto;           /* IPPROTO_TCP (only TCP is served) */
	/* one pad byte */
	uint16_t streamid;         /* SCTP only */
	char localid [128];        /* local identity, or empty */
	char remoteid [128];       /* remote identity, or empty */
};

struct pioc_pinentry {
	uint32_t flags;
	uint32_t attempt;          /* from 1: show it */
	uint32_t timeout_us;       /* how long the pool waits */
	char pin [128];            /* empty: offer, refuse, or ask */
	char prompt [128];
	char token_manuf [32+1];
	char token_model [16+1];
	char token_serial [16+1];
	char token_label [32+1];
};

struct tlspool_command {
	uint16_t pio_reqid;        /* copied from request to response */
	uint16_t pio_cbid;         /* 0, or the callback the pool opened (1..1024) */
	uint32_t pio_cmd;          /* PIOC_xxx_V1 */
	union pio_data {
		struct pioc_error pioc_error;
		struct pioc_ping pioc_ping;
		struct pioc_starttls pioc_starttls;
		struct pioc_pinentry pioc_pinentry;
	} pio_data;
};

#define PIOC_SUCCESS_V1                 0x00000000
#define PIOC_ERROR_V1                   0x00000001
#define PIOC_PING_V1                    0x00000010
#define PIOC_STARTTLS_CLIENT_V1         0x00000020
#define PIOC_STARTTLS_SERVER_V1         0x00000021
#define PIOC_STARTTLS_LOCALID_V1        0x00000028
#define PIOC_PINENTRY_V1                0x00000029

#define PIOF_STARTTLS_DTLS              0x00000001
#define PIOF_STARTTLS_REQUIRE_DNSSEC    0x00000010
#define PIOF_STARTTLS_REQUIRE_LDAP_CERT 0x00000020
#define PIOF_STARTTLS_REQUIRE_LDAP_DANE 0x00000040
#define PIOF_STARTTLS_SKIP_EXT_AUTHN    0x00000080
#define PIOF_STARTTLS_BYPASS_EXT_AUTHZ  0x00000100
#define PIOF_STARTTLS_SEND_SNI          0x00000200
#define PIOF_STARTTLS_IGNORE_CACHES     0x00000400
#define PIOF_STARTTLS_REQUEST_REMOTEID  0x00000800
#define PIOF_STARTTLS_IGNORE_REMOTEID   0x00001000

#endif /* TLSPOOL_COMMANDS_V1_H */
