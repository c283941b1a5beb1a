/* A V1 application in C, compiled against include/tlspool/commands-v1.h.
 *
 *   v1_client layout                 prints every size and offset, one "name value" a line
 *   v1_client ping SOCKET            PINGs the pool and prints its identity
 *   v1_client starttls SOCKET PORT LOCALID REMOTEID
 *                                    connects to 127.0.0.1:PORT, hands the socket to the pool
 *                                    with STARTTLS_CLIENT (echoing STARTTLS_LOCALID callbacks),
 *                                    sends "hello from C", reads the answer to its end and
 *                                    prints it with the validated remote identity
 * As V1's library does: one recvmsg of a whole packet, one sendmsg per packet, the descriptor
 * as one SCM_RIGHTS int, the TCP socket closed once handed over.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tlspool/commands-v1.h"

#define P(name, value) printf("%s %zu\n", name, (size_t) (value))

static void layout (void) {
	P ("packet", sizeof (struct tlspool_command));
	P ("align", _Alignof (struct tlspool_command));
	P ("reqid", offsetof (struct tlspool_command, pio_reqid));
	P ("cbid", offsetof (struct tlspool_command, pio_cbid));
	P ("cmd", offsetof (struct tlspool_command, pio_cmd));
	P ("data", offsetof (struct tlspool_command, pio_data));
	P ("data_len", sizeof (union pio_data));
	P ("error_len", sizeof (struct pioc_error));
	P ("error.message", offsetof (struct pioc_error, message));
	P ("ping_len", sizeof (struct pioc_ping));
	P ("starttls_len", sizeof (struct pioc_starttls));
	P ("starttls.local", offsetof (struct pioc_starttls, local));
	P ("starttls.ipproto", offsetof (struct pioc_starttls, ipproto));
	P ("starttls.streamid", offsetof (struct pioc_starttls, streamid));
	P ("starttls.localid", offsetof (struct pioc_starttls, localid));
	P ("starttls.remoteid", offsetof (struct pioc_starttls, remoteid));
	P ("pinentry_len", sizeof (struct pioc_pinentry));
	P ("pinentry.attempt", offsetof (struct pioc_pinentry, attempt));
	P ("pinentry.timeout_us", offsetof (struct pioc_pinentry, timeout_us));
	P ("pinentry.pin", offsetof (struct pioc_pinentry, pin));
	P ("pinentry.prompt", offsetof (struct pioc_pinentry, prompt));
	P ("pinentry.token_manuf", offsetof (struct pioc_pinentry, token_manuf));
	P ("pinentry.token_model", offsetof (struct pioc_pinentry, token_model));
	P ("pinentry.token_serial", offsetof (struct pioc_pinentry, token_serial));
	P ("pinentry.token_label", offsetof (struct pioc_pinentry, token_label));
}

static int pool_socket (const char *path) {
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket (AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || strlen (path) >= sizeof (addr.sun_path)) {
		return -1;
	}
	strcpy (addr.sun_path, path);
	if (connect (fd, (struct sockaddr *) &addr, sizeof (addr)) != 0) {
		close (fd);
		return -1;
	}
	return fd;
}

static int send_command (int pool, struct tlspool_command *cmd, int passfd) {
	struct iovec iov = { .iov_base = cmd, .iov_len = sizeof (*cmd) };
	char anc [CMSG_SPACE (sizeof (int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (passfd >= 0) {
		memset (anc, 0, sizeof (anc));
		mh.msg_control = anc;
		mh.msg_controllen = sizeof (anc);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR (&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN (sizeof (int));
		memcpy (CMSG_DATA (cmsg), &passfd, sizeof (int));
	}
	return sendmsg (pool, &mh, MSG_NOSIGNAL) == (ssize_t) sizeof (*cmd) ? 0 : -1;
}

/* Receives one packet; *gotfd is the descriptor that came with it, or -1. */
static int recv_command (int pool, struct tlspool_command *cmd, int *gotfd) {
	struct iovec iov = { .iov_base = cmd, .iov_len = sizeof (*cmd) };
	char anc [CMSG_SPACE (sizeof (int))];
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	                     .msg_control = anc, .msg_controllen = sizeof (anc) };
	*gotfd = -1;
	if (recvmsg (pool, &mh, 0) != (ssize_t) sizeof (*cmd)) {
		return -1;
	}
	struct cmsghdr *cmsg = CMSG_FIRSTHDR (&mh);
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
		memcpy (gotfd, CMSG_DATA (cmsg), sizeof (int));
	}
	return 0;
}

static int ping (const char *path) {
	struct tlspool_command cmd;
	int pool = pool_socket (path), fd;
	if (pool < 0) { perror ("connect"); return 1; }
	memset (&cmd, 0, sizeof (cmd));
	cmd.pio_reqid = 4711;
	cmd.pio_cmd = PIOC_PING_V1;
	strcpy (cmd.pio_data.pioc_ping.YYYYMMDD_producer, "20261203v1client@example.org");
	if (send_command (pool, &cmd, -1) || recv_command (pool, &cmd, &fd)) {
		perror ("ping"); return 1;
	}
	if (cmd.pio_cmd != PIOC_PING_V1 || cmd.pio_reqid != 4711) {
		fprintf (stderr, "unexpected answer 0x%x reqid %u\n", cmd.pio_cmd, cmd.pio_reqid);
		return 1;
	}
	printf ("%s\n", cmd.pio_data.pioc_ping.YYYYMMDD_producer);
	return 0;
}

static int starttls (const char *path, int port, const char *localid, const char *remoteid) {
	struct tlspool_command cmd;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port) };
	int pool = pool_socket (path), tcp = socket (AF_INET, SOCK_STREAM, 0), plain = -1;
	addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
	if (pool < 0 || tcp < 0 || connect (tcp, (struct sockaddr *) &addr, sizeof (addr))) {
		perror ("connect"); return 1;
	}
	memset (&cmd, 0, sizeof (cmd));
	cmd.pio_reqid = 1;
	cmd.pio_cmd = PIOC_STARTTLS_CLIENT_V1;
	cmd.pio_data.pioc_starttls.ipproto = IPPROTO_TCP;
	strncpy (cmd.pio_data.pioc_starttls.localid, localid, 127);
	strncpy (cmd.pio_data.pioc_starttls.remoteid, remoteid, 127);
	if (send_command (pool, &cmd, tcp)) { perror ("sendmsg"); return 1; }
	close (tcp);
	for (;;) {
		int fd;
		if (recv_command (pool, &cmd, &fd)) { perror ("recvmsg"); return 1; }
		if (cmd.pio_cmd == PIOC_STARTTLS_LOCALID_V1) {
			/* accept the proposal: echo it with the same reqid and cbid */
			if (send_command (pool, &cmd, -1)) { perror ("sendmsg"); return 1; }
			continue;
		}
		if (cmd.pio_cmd == PIOC_ERROR_V1) {
			fprintf (stderr, "ERROR %d: %s\n", cmd.pio_data.pioc_error.tlserrno,
			         cmd.pio_data.pioc_error.message);
			return 2;
		}
		if (cmd.pio_cmd != PIOC_STARTTLS_CLIENT_V1 || fd < 0) {
			fprintf (stderr, "unexpected answer 0x%x\n", cmd.pio_cmd);
			return 1;
		}
		plain = fd;
		break;
	}
	printf ("remoteid %s\n", cmd.pio_data.pioc_starttls.remoteid);
	const char hello [] = "hello from C";
	if (write (plain, hello, sizeof (hello) - 1) != (ssize_t) sizeof (hello) - 1) {
		perror ("write"); return 1;
	}
	char buf [256];
	ssize_t n, total = 0;
	printf ("reply ");
	while ((n = read (plain, buf, sizeof (buf))) > 0) {
		fwrite (buf, 1, n, stdout);
		total += n;
	}
	printf ("\n");
	close (plain);
	close (pool);
	return n < 0 ? 1 : 0;
}

int main (int argc, char *argv []) {
	if (argc == 2 && strcmp (argv [1], "layout") == 0) {
		layout ();
		return 0;
	}
	if (argc == 3 && strcmp (argv [1], "ping") == 0) {
		return ping (argv [2]);
	}
	if (argc == 6 && strcmp (argv [1], "starttls") == 0) {
		return starttls (argv [2], atoi (argv [3]), argv [4], argv [5]);
	}
	fprintf (stderr, "usage: %s layout | ping SOCKET | starttls SOCKET PORT LOCALID REMOTEID\n", argv [0]);
	return 64;
}
