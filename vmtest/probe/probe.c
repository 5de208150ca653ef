/*
 * probe: reports, from inside a daemonbox sandbox, what the kernel says about
 * the process: credentials, the five capability sets, no_new_privs, rlimits,
 * umask, cwd and root, open fds, signal dispositions and mask, session and
 * terminal, argv and environment. The vmtest suite compares the report with
 * the spec.
 *
 * It is C, not Go, because the Go runtime installs its own signal handlers at
 * start-up over inherited SIG_IGN dispositions, so a Go probe could not see
 * what it was given. It is linked statically so it runs in an empty chroot,
 * and reads /proc only where it has a fallback.
 *
 * Output: one "key value..." line per fact; strings are hex-encoded so that
 * argv and environment compare byte for byte. Each open socket has a line
 * "sock FD FAMILY TYPE ADDRESS PORT LISTENING" (socket activation).
 *
 * Modes:
 *   probe [report] [--helper PATH]  print the report; with --helper, also run
 *                                   "PATH euid" and report what it printed
 *   probe euid                      print the effective uid (run setuid-root)
 *   probe segv [DIR]                chdir to DIR and die of SIGSEGV
 *   probe wait [ignore-term]        print "ready", then one line per signal
 *                                   received; exit 0 on SIGTERM
 *   probe landlock OP=ARG...        try file and TCP operations (see landlock)
 *   probe forkbomb                  fork until refused; "forkbomb N ERRNO"
 *   probe hog BYTES                 touch BYTES of memory; "hog done"
 *   probe escape-stop               a renamed, setsid grandchild ignores
 *                                   SIGTERM ("escaped PID"); then as wait
 *   probe syscalls                  try each call a syscall filter judges, each
 *                                   in a child of its own: "call NAME ok|ERRNO|SIGNAL";
 *                                   then unshare directly ("direct unshare ..."),
 *                                   which action = "kill" ends with SIGSYS
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/fsuid.h>
#include <sys/ipc.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void hex(const char *s)
{
	if (*s == '\0')
		fputs("-", stdout); /* an empty string */
	for (; *s; s++)
		printf("%02x", (unsigned char)*s);
}

static void creds(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	printf("uid %u %u %u %d\n", r, e, s, setfsuid(-1));
	printf("gid %u %u %u %d\n", gr, ge, gs, setfsgid(-1));
	gid_t groups[256];
	int n = getgroups(256, groups);
	printf("groups");
	for (int i = 0; i < n; i++)
		printf(" %u", groups[i]);
	printf("\n");
}

static void capabilities(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	syscall(SYS_capget, &hdr, data);
	uint64_t inh = data[0].inheritable | (uint64_t)data[1].inheritable << 32;
	uint64_t prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	uint64_t eff = data[0].effective | (uint64_t)data[1].effective << 32;
	uint64_t bnd = 0, amb = 0;
	int last = 0;
	for (int c = 0; c < 64; c++) {
		int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		if (in < 0)
			break;
		last = c;
		if (in)
			bnd |= 1ULL << c;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
			amb |= 1ULL << c;
	}
	printf("cap_last_cap %d\n", last);
	printf("capinh %016llx\ncapprm %016llx\ncapeff %016llx\n",
	       (unsigned long long)inh, (unsigned long long)prm, (unsigned long long)eff);
	printf("capbnd %016llx\ncapamb %016llx\n", (unsigned long long)bnd, (unsigned long long)amb);
	printf("nnp %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	printf("dumpable %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
}

static const char *rlimit_names[] = {
	"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile",
	"memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime",
};

static void rlimits(void)
{
	for (int r = 0; r < 16; r++) {
		struct rlimit lim;
		getrlimit(r, &lim);
		printf("rlimit %s %llu %llu\n", rlimit_names[r],
		       (unsigned long long)lim.rlim_cur, (unsigned long long)lim.rlim_max);
	}
}

static void place(void)
{
	mode_t m = umask(0);
	umask(m);
	printf("umask %04o\n", m);
	char buf[4096];
	if (getcwd(buf, sizeof(buf)))
		printf("cwd %s\n", buf);
	else
		printf("cwd ? %d\n", errno);
	struct stat root, up;
	stat("/", &root);
	printf("root %llu %llu\n", (unsigned long long)root.st_dev, (unsigned long long)root.st_ino);
	/* Walk up from the cwd as far as ".." goes: it must end at "/". */
	int fd = open(".", O_PATH | O_DIRECTORY);
	for (int i = 0; i < 64; i++) {
		int next = openat(fd, "..", O_PATH | O_DIRECTORY);
		close(fd);
		fd = next;
	}
	fstat(fd, &up);
	close(fd);
	printf("dotdot_is_root %d\n", up.st_dev == root.st_dev && up.st_ino == root.st_ino);
}

static void fd_line(int fd)
{
	int flags = fcntl(fd, F_GETFD);
	struct stat st;
	if (flags < 0 || fstat(fd, &st) < 0)
		return;
	printf("fd %d %llu %llu %d\n", fd, (unsigned long long)st.st_dev,
	       (unsigned long long)st.st_ino, (flags & FD_CLOEXEC) != 0);
}

/* Open fds: from /proc/self/fd when mounted, else by asking fcntl. */
static void fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int self = dirfd(d);
		int list[4096], n = 0;
		struct dirent *e;
		while ((e = readdir(d)) && n < 4096)
			if (e->d_name[0] != '.' && atoi(e->d_name) != self)
				list[n++] = atoi(e->d_name);
		closedir(d);
		for (int i = 0; i < n; i++)
			fd_line(list[i]);
		return;
	}
	for (int fd = 0; fd < 1 << 16; fd++)
		fd_line(fd);
}

/* What each socket among fds 0 to 63 is bound to: the sockets of
 * LISTEN_FDS arrive at 3 onward. */
static void sockets(void)
{
	for (int fd = 0; fd < 64; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int type = 0, acc = 0;
		socklen_t il = sizeof(int);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			continue;
		getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il);
		il = sizeof(int);
		getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &il);
		const char *t = type == SOCK_STREAM ? "stream" : type == SOCK_DGRAM ? "dgram" : "other";
		char addr[INET6_ADDRSTRLEN] = "-";
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
			printf("sock %d inet %s %s %d %d\n", fd, t, addr, ntohs(in->sin_port), acc);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
			printf("sock %d inet6 %s %s %d %d\n", fd, t, addr, ntohs(in6->sin6_port), acc);
		} else if (ss.ss_family == AF_UNIX) {
			struct sockaddr_un *un = (struct sockaddr_un *)&ss;
			int named = len > offsetof(struct sockaddr_un, sun_path) && un->sun_path[0];
			printf("sock %d unix %s %s - %d\n", fd, t, named ? un->sun_path : "-", acc);
		} else {
			printf("sock %d %d %s - - %d\n", fd, ss.ss_family, t, acc);
		}
	}
}

/* The kernel's struct sigaction, queried raw: glibc hides signals 32 and 33. */
struct ksigaction {
	unsigned long handler, flags, restorer;
	uint64_t mask;
};

static void signals(void)
{
	uint64_t ign = 0, blk = 0;
	for (int s = 1; s <= 64; s++) {
		struct ksigaction old;
		if (syscall(SYS_rt_sigaction, s, NULL, &old, 8) == 0 && old.handler == (unsigned long)SIG_IGN)
			ign |= 1ULL << (s - 1);
	}
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &blk, 8);
	printf("sigign %016llx\nsigblk %016llx\n", (unsigned long long)ign, (unsigned long long)blk);
}

static int err_of(int rc) { return rc < 0 ? errno : 0; }

static void terminal(void)
{
	printf("pid %d\nppid %d\nsid %d\npgrp %d\n", getpid(), getppid(), getsid(0), getpgrp());
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	printf("tty_open %d\n", fd < 0 ? errno : 0);
	if (fd >= 0)
		close(fd);
	char c = ' ';
	for (int i = 0; i < 3; i++)
		printf("tiocsti %d %d\n", i, err_of(ioctl(i, TIOCSTI, &c)));
}

static void oom(void)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "r");
	int v;
	if (f && fscanf(f, "%d", &v) == 1)
		printf("oom_score_adj %d\n", v);
	if (f)
		fclose(f);
}

static void words(void)
{
	FILE *f = fopen("/proc/self/cmdline", "r");
	if (f) {
		/* The kernel's copy, NUL-separated, hex-encoded whole. */
		int ch;
		printf("cmdline ");
		while ((ch = fgetc(f)) != EOF)
			printf("%02x", ch);
		printf("\n");
		fclose(f);
	}
	for (char **e = environ; *e; e++) {
		printf("env ");
		hex(*e);
		printf("\n");
	}
}

/* Escape attempts: each must fail for an unprivileged daemon. */
static void escapes(void)
{
	printf("setuid0 %d\n", err_of(syscall(SYS_setuid, 0)));
	printf("setresuid0 %d\n", err_of(syscall(SYS_setresuid, 0, 0, 0)));
	printf("setgid0 %d\n", err_of(syscall(SYS_setgid, 0)));
	printf("chroot %d\n", err_of(chroot("/")));
	struct rlimit lim;
	getrlimit(RLIMIT_NOFILE, &lim);
	lim.rlim_cur = lim.rlim_max = lim.rlim_max + 1;
	printf("raise_nofile %d\n", err_of(setrlimit(RLIMIT_NOFILE, &lim)));
}

static void helper(const char *path)
{
	int p[2];
	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(path, path, "euid", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[64] = {0};
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	waitpid(pid, NULL, 0);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("helper_euid %s\n", buf[0] ? buf : "?");
}

static void seccomp_state(void);

static void report(int argc, char **argv)
{
	/* First, before stdio opens anything of its own. */
	fflush(stdout);
	terminal();
	fds();
	sockets();
	for (int i = 0; i < argc; i++) {
		printf("argv ");
		hex(argv[i]);
		printf("\n");
	}
	creds();
	capabilities();
	rlimits();
	place();
	signals();
	oom();
	words();
	if (argc > 3 && strcmp(argv[2], "--helper") == 0)
		helper(argv[3]);
	escapes();
	seccomp_state();
	printf("end\n");
}

static int notify(const char *msg);

static void on_signal(int sig)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "signal %d\n", sig);
	write(1, line, n);
	if (sig == SIGTERM) {
		if (getenv("NOTIFY_SOCKET"))
			notify("STOPPING=1");
		_exit(0);
	}
}

static void wait_signals(int ignore_term)
{
	int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
	if (ignore_term)
		signal(SIGTERM, SIG_IGN);
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}

/* notify sends one sd_notify datagram to $NOTIFY_SOCKET ("@" is abstract). */
static int notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	size_t n = strlen(path);
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t r = sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sa,
			   offsetof(struct sockaddr_un, sun_path) + n);
	close(fd);
	return r < 0 ? -1 : 0;
}

/* count writes the lines 1..n to stdout, one at a time, then exits. */
static void count(long n)
{
	struct timespec pause = {0, 200000};
	for (long i = 1; i <= n; i++) {
		printf("%ld\n", i);
		fflush(stdout);
		nanosleep(&pause, NULL);
	}
}

/*
 * forking is a daemon of the classic kind: the first process forks the real
 * one, prints "child PID", names it with MAINPID= (and READY=1) when it has
 * a notify socket, and exits. The child goes on once its parent is gone:
 * it waits for signals, or exits with the given code.
 */
static int forking(int argc, char **argv)
{
	int gone[2];
	if (pipe(gone) < 0)
		return 5;
	pid_t child = fork();
	if (child < 0)
		return 5;
	if (child == 0) {
		char c;
		close(gone[1]);
		while (read(gone[0], &c, 1) < 0 && errno == EINTR)
			;
		if (argc > 2)
			_exit(atoi(argv[2]));
		wait_signals(0);
	}
	printf("child %d\n", child);
	fflush(stdout);
	char msg[64];
	snprintf(msg, sizeof(msg), "MAINPID=%d\nREADY=1", child);
	if (getenv("NOTIFY_SOCKET") && notify(msg) < 0)
		return 4;
	return 0;
}

/*
 * signals_to sends pid the signals a Go program dies of when they come from
 * kill, then SIGUSR1, and waits (bounded) for PID 1 to forward SIGUSR1 back:
 * 0 when it did, so it outlived the rest; else why not.
 */
static int signals_to(pid_t pid)
{
	int deadly[] = {SIGABRT, SIGILL, SIGTRAP, SIGSYS, SIGSTKFLT, SIGBUS, SIGSEGV, SIGFPE, SIGKILL, SIGSTOP};
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	for (unsigned i = 0; i < sizeof(deadly) / sizeof(deadly[0]); i++)
		kill(pid, deadly[i]);
	if (kill(pid, SIGUSR1) < 0)
		return errno;
	struct timespec bound = {10, 0};
	return sigtimedwait(&usr1, NULL, &bound) == SIGUSR1 ? 0 : errno;
}

/* show prints a small file on one line: its lines joined by ";", each
 * line's runs of blanks as one space. */
static void show(const char *key, const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY), n = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	printf("%s ", key);
	int blank = 1;
	for (int i = 0; i < n; i++) {
		char c = buf[i] == '\n' ? ';' : buf[i];
		if (c == ' ' || c == '\t') {
			if (!blank)
				putchar(' ');
			blank = 1;
			continue;
		}
		if (c == ';' && i == n - 1)
			break;
		putchar(c);
		blank = c == ';';
	}
	printf("\n");
}

/*
 * isolation reports what the namespaces and mounts let the daemon see and
 * do: its namespace inodes, hostname, network interfaces, the processes in
 * its /proc, and the outcome (errno, 0 for success) of each probe asked for
 * on the command line as name=value.
 */
static void isolation(int argc, char **argv)
{
	const char *ns[] = {"mnt", "pid", "net", "ipc", "uts", "cgroup", "user"};
	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char path[64];
		struct stat st;
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
		printf("ns %s %llu\n", ns[i], stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0ULL);
	}
	show("uid_map", "/proc/self/uid_map");
	show("gid_map", "/proc/self/gid_map");
	show("setgroups", "/proc/self/setgroups");
	char host[256] = "";
	gethostname(host, sizeof(host));
	printf("hostname %s\n", host);
	printf("sethostname %d\n", err_of(sethostname("x", 1)));
	struct if_nameindex *ifs = if_nameindex();
	for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
		struct ifreq ifr = {0};
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		strncpy(ifr.ifr_name, i->if_name, IFNAMSIZ - 1);
		ioctl(fd, SIOCGIFFLAGS, &ifr);
		close(fd);
		printf("iface %s %s\n", i->if_name, ifr.ifr_flags & IFF_UP ? "up" : "down");
	}
	DIR *d = opendir("/proc");
	int procs = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		procs += e->d_name[0] >= '0' && e->d_name[0] <= '9';
	if (d)
		closedir(d);
	printf("procs %d\n", procs);
	for (int i = 2; i < argc; i++) {
		char *v = strchr(argv[i], '=');
		if (!v)
			continue;
		*v++ = 0;
		int r = 0;
		if (strcmp(argv[i], "tcp") == 0) {
			struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(v)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
			int fd = socket(AF_INET, SOCK_STREAM, 0);
			r = err_of(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
			close(fd);
		} else if (strcmp(argv[i], "abstract") == 0) {
			struct sockaddr_un sa = {.sun_family = AF_UNIX};
			strncpy(sa.sun_path + 1, v, sizeof(sa.sun_path) - 2);
			int fd = socket(AF_UNIX, SOCK_STREAM, 0);
			r = err_of(connect(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 1 + strlen(v)));
			close(fd);
		} else if (strcmp(argv[i], "kill") == 0) {
			r = err_of(kill(atoi(v), 0));
		} else if (strcmp(argv[i], "signals") == 0) {
			r = signals_to(atoi(v));
		} else if (strcmp(argv[i], "ptrace") == 0) {
			r = err_of(ptrace(PTRACE_ATTACH, atoi(v), 0, 0));
		} else if (strcmp(argv[i], "shm") == 0) {
			r = err_of(shmget(atoi(v), 0, 0));
		} else if (strcmp(argv[i], "read") == 0) {
			int fd = open(v, O_RDONLY);
			char c;
			r = fd < 0 ? errno : read(fd, &c, 1) < 0 ? errno : 0;
			if (fd >= 0 && r == 0 && lseek(fd, 0, SEEK_SET) == 0 && read(fd, &c, 1) > 0)
				r = -1; /* readable and not empty */
			if (fd >= 0)
				close(fd);
		} else if (strcmp(argv[i], "write") == 0) {
			int fd = open(v, O_WRONLY | O_CREAT, 0644);
			r = fd < 0 ? errno : 0;
			if (fd >= 0)
				close(fd);
		} else if (strcmp(argv[i], "mkdir") == 0) {
			r = err_of(mkdir(v, 0755));
		} else if (strcmp(argv[i], "escape") == 0) {
			/* The double-chroot climb: chroot into /sub with the cwd left
			 * outside it, walk up, chroot there; 0 if v is then in sight. */
			r = err_of(chroot("/sub"));
			for (int k = 0; r == 0 && k < 64; k++)
				if (chdir("..") < 0)
					break;
			if (r == 0)
				r = err_of(chroot("."));
			if (r == 0)
				r = err_of(access(v, F_OK));
		} else if (strcmp(argv[i], "remount") == 0) {
			r = err_of(mount(NULL, v, NULL, MS_REMOUNT | MS_BIND, NULL));
		}
		printf("try %s=%s %d\n", argv[i], v, r);
	}
	printf("end\n");
}

/* try_exec runs PATH ("PATH euid", its output discarded) and returns the
 * errno of its execve, 0 if the exec happened. */
static int try_exec(const char *path)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return errno;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		close(1);
		char *args[] = {(char *)path, "euid", NULL};
		execve(path, args, environ);
		int e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pipefd[1]);
	int e = pid < 0 ? errno : 0;
	if (pid > 0 && read(pipefd[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return e;
}

/* try_tcp binds or connects a TCP socket to 127.0.0.1:port. */
static int try_tcp(int do_bind, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int r = err_of(do_bind ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) : connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
	return r;
}

/* try_file is one file operation: op on path, and on path2 for the two
 * that take a second path. */
static int try_file(const char *op, const char *path, const char *path2)
{
	int fd = -1, r = 0;
	if (strcmp(op, "read") == 0 || strcmp(op, "list") == 0 || strcmp(op, "write") == 0) {
		int flags = op[0] == 'w' ? O_WRONLY | O_CREAT : op[0] == 'l' ? O_RDONLY | O_DIRECTORY : O_RDONLY;
		fd = open(path, flags, 0644);
		r = fd < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
	} else if (strcmp(op, "truncate") == 0) {
		r = err_of(truncate(path, 0));
	} else if (strcmp(op, "mkdir") == 0) {
		r = err_of(mkdir(path, 0755));
	} else if (strcmp(op, "unlink") == 0) {
		r = err_of(unlink(path));
	} else if (strcmp(op, "link") == 0 && path2) {
		r = err_of(link(path, path2));
	} else if (strcmp(op, "rename") == 0 && path2) {
		r = err_of(rename(path, path2));
	} else if (strcmp(op, "exec") == 0) {
		r = try_exec(path);
	} else {
		r = EINVAL;
	}
	return r;
}

/*
 * landlock tries each OP=ARG given and prints "try OP=ARG ok" or
 * "try OP=ARG ERRNONAME". OPs: read, list (a directory), write (open for
 * writing, created if need be), truncate, mkdir, unlink, exec, link=FROM:TO,
 * rename=FROM:TO, bind=PORT and connect=PORT (TCP, 127.0.0.1).
 */
static void landlock(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		char op[32], arg[4096];
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq - argv[i] >= (long)sizeof(op) || strlen(eq + 1) >= sizeof(arg))
			continue;
		memcpy(op, argv[i], eq - argv[i]);
		op[eq - argv[i]] = 0;
		strcpy(arg, eq + 1);
		int r;
		if (strcmp(op, "bind") == 0 || strcmp(op, "connect") == 0) {
			r = try_tcp(op[0] == 'b', atoi(arg));
		} else {
			char *second = strchr(arg, ':');
			if (second)
				*second++ = 0;
			r = try_file(op, arg, second);
		}
		printf("try %s %s\n", argv[i], r == 0 ? "ok" : strerrorname_np(r));
	}
	printf("end\n");
}

/*
 * forkbomb forks children that wait, until fork fails or 4096 of them run
 * (a bound, so that a missing pids_max cannot harm the host), prints
 * "forkbomb FORKED ERRNO", then ends them all.
 */
static int forkbomb(void)
{
	static pid_t kids[4096];
	int n = 0, err = 0;
	while (n < 4096) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			err = errno;
			break;
		}
		kids[n++] = pid;
	}
	printf("forkbomb %d %d\n", n, err);
	fflush(stdout);
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}

/* hog touches BYTES of fresh memory, a MiB at a time, then says so. */
static int hog(long long bytes)
{
	printf("hog start\n");
	fflush(stdout);
	for (long long done = 0; done < bytes; done += 1 << 20) {
		char *p = malloc(1 << 20);
		if (!p)
			return 5;
		memset(p, 1, 1 << 20);
	}
	printf("hog done\n");
	return 0;
}

/*
 * escape_stop tries to outlive stop: a child calls setsid and forks a
 * grandchild, which is left to the supervisor, renames itself "escaped",
 * ignores SIGTERM, prints "escaped PID" and sleeps. The first process waits
 * for signals as "wait" does.
 */
static int escape_stop(void)
{
	pid_t child = fork();
	if (child == 0) {
		setsid();
		if (fork() == 0) {
			prctl(PR_SET_NAME, "escaped", 0, 0, 0);
			signal(SIGTERM, SIG_IGN);
			printf("escaped %d\n", getpid());
			fflush(stdout);
			for (;;)
				pause();
		}
		_exit(0);
	}
	waitpid(child, NULL, 0);
	wait_signals(0);
	return 0;
}

/* seccomp_state prints "seccomp MODE FILTERS" from /proc/self/status; without
 * /proc, the mode from prctl and "-" for the count. */
static void seccomp_state(void)
{
	char mode[16] = "", filters[16] = "-", line[256];
	FILE *f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "Seccomp: %15s", mode);
		sscanf(line, "Seccomp_filters: %15s", filters);
	}
	if (f)
		fclose(f);
	if (!mode[0])
		snprintf(mode, sizeof(mode), "%d", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	printf("seccomp %s %s\n", mode, filters);
}

/* raw_result turns a raw system call's return into the probe's errno: 0 for
 * success, the errno for -1 and -errno. */
static int raw_result(long r) { return r == -1 ? errno : (r < 0 && r > -4096) ? (int)-r : 0; }

/* clone_child: after a clone-like call, the new process leaves at once and
 * the caller reaps it. */
static int clone_child(long pid)
{
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return raw_result(pid);
}

static int try_unshare(void) { return err_of(unshare(CLONE_NEWUSER)); }
static int try_clone_newuser(void) { return clone_child(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)); }
static int try_fork(void) { return clone_child(fork()); }
static int try_getpid(void) { return getpid() > 0 ? 0 : errno; }
static int try_traceme(void) { return err_of((int)ptrace(PTRACE_TRACEME, 0, 0, 0)); }
static int try_userfaultfd(void) { return raw_result(syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */)); }
static int try_personality32(void) { return err_of(personality(0x0008 /* PER_LINUX32 */)); }
static int try_personality_query(void) { return err_of(personality(0xffffffff)); }
static int try_keyctl(void) { return raw_result(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -2 /* process */, 1)); }
static int try_add_key(void) { return raw_result(syscall(SYS_add_key, "user", "daemonbox-probe", "x", 1, -2)); }
static int try_request_key(void) { return raw_result(syscall(SYS_request_key, "user", "daemonbox-probe-none", NULL, -2)); }
static int try_mount(void) { return err_of(mount("none", "/daemonbox-probe-none", "tmpfs", 0, NULL)); }
static int try_kexec(void) { return raw_result(syscall(SYS_kexec_load, 0, 0, NULL, 0)); }
static int try_init_module(void) { return raw_result(syscall(SYS_init_module, NULL, 0, "")); }
static int try_x32(void) { return raw_result(syscall(0x40000000 | 39 /* x32 getpid */)); }
static int try_unknown(void) { return raw_result(syscall(1000)); }
static int try_socket(void) { int fd = socket(AF_UNIX, SOCK_DGRAM, 0); return fd < 0 ? errno : (close(fd), 0); }
/* Families Docker's default profile refuses: the kernel crypto API and host-guest sockets. */
static int try_socket_alg(void) { int fd = socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0); return fd < 0 ? errno : (close(fd), 0); }
static int try_socket_vsock(void) { int fd = socket(40 /* AF_VSOCK */, SOCK_STREAM, 0); return fd < 0 ? errno : (close(fd), 0); }
static int try_socket_netlink(void) { int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0 /* NETLINK_ROUTE */); return fd < 0 ? errno : (close(fd), 0); }
/* kcmp compares two processes' kernel objects: here this process's fd 0 with itself. */
static int try_kcmp(void) { return raw_result(syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0)); }
/* Docker's profile lets the memory policy calls through only with CAP_SYS_NICE. */
static int try_set_mempolicy(void) { return raw_result(syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0)); }
/* A mapping both writable and executable, what MemoryDenyWriteExecute= refuses. */
static int try_mmap_wx(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? errno : (munmap(p, 4096), 0);
}

static int try_setns(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	return err_of(setns(fd, 0)); /* -1 without /proc: EBADF unless filtered */
}

static int try_clone3(void)
{
	uint64_t args[11] = {0};
	args[4] = SIGCHLD; /* exit_signal */
	return clone_child(syscall(435 /* clone3 */, args, sizeof(args)));
}

static int try_io_uring(void)
{
	char params[120] = {0}; /* struct io_uring_params */
	long fd = syscall(425 /* io_uring_setup */, 1, params);
	return raw_result(fd);
}

static int try_bpf(void)
{
	uint32_t attr[16] = {2 /* BPF_MAP_TYPE_ARRAY */, 4, 4, 1};
	return raw_result(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr)));
}

static int try_perf(void)
{
	uint64_t attr[16] = {0}; /* struct perf_event_attr, PERF_ATTR_SIZE_VER0 and up */
	attr[0] = 1 | (uint64_t)sizeof(attr) << 32;             /* PERF_TYPE_SOFTWARE, size */
	attr[1] = 0;                                             /* PERF_COUNT_SW_CPU_CLOCK */
	attr[5] = 1ULL << 5 | 1ULL << 6;                        /* exclude_kernel, exclude_hv */
	return raw_result(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
}

static int try_open_by_handle(void)
{
	struct { unsigned int bytes; int type; unsigned char h[8]; } fh = {8, 1, {0}};
	return raw_result(syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY));
}

static int try_int80(void)
{
#if defined(__x86_64__)
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L /* i386 getpid */) : "memory", "r8", "r9", "r10", "r11");
	return raw_result(r);
#else
	return ENOSYS;
#endif
}

/* try_in_child runs fn in a child of its own, so that what a call changes
 * (a new user namespace, a tracer, a persona) stays there, and prints how
 * it ended. */
static void try_in_child(const char *name, int (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn());
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		printf("call %s fork-failed\n", name);
	else if (WIFSIGNALED(st))
		printf("call %s SIG%s\n", name, sigabbrev_np(WTERMSIG(st)));
	else if (WEXITSTATUS(st) == 0)
		printf("call %s ok\n", name);
	else
		printf("call %s %s\n", name, strerrorname_np(WEXITSTATUS(st)));
}

static int syscalls(void)
{
	static const struct { const char *name; int (*fn)(void); } calls[] = {
		{"unshare", try_unshare}, {"setns", try_setns}, {"clone_newuser", try_clone_newuser},
		{"clone3", try_clone3}, {"io_uring_setup", try_io_uring}, {"ptrace_traceme", try_traceme},
		{"userfaultfd", try_userfaultfd}, {"personality_linux32", try_personality32},
		{"personality_query", try_personality_query}, {"keyctl", try_keyctl}, {"add_key", try_add_key},
		{"request_key", try_request_key}, {"mount", try_mount}, {"bpf", try_bpf},
		{"perf_event_open", try_perf}, {"kexec_load", try_kexec}, {"init_module", try_init_module},
		{"open_by_handle_at", try_open_by_handle}, {"i386_getpid", try_int80}, {"x32_getpid", try_x32},
		{"nr1000", try_unknown}, {"getpid", try_getpid}, {"fork", try_fork}, {"socket", try_socket},
		{"socket_alg", try_socket_alg}, {"socket_vsock", try_socket_vsock},
		{"set_mempolicy", try_set_mempolicy}, {"mmap_wx", try_mmap_wx},
		{"socket_netlink", try_socket_netlink}, {"kcmp", try_kcmp},
	};
	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		try_in_child(calls[i].name, calls[i].fn);
	fflush(stdout);
	int r = try_unshare(); /* in this process: action = "kill" ends it here */
	printf("direct unshare %s\n", r ? strerrorname_np(r) : "ok");
	printf("end\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "report";
	if (strcmp(mode, "euid") == 0) {
		printf("%d\n", geteuid());
		return 0;
	}
	if (strcmp(mode, "segv") == 0) {
		if (argc > 2 && chdir(argv[2]) < 0)
			return 2;
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return 3;
	}
	if (strcmp(mode, "wait") == 0) {
		wait_signals(argc > 2 && strcmp(argv[2], "ignore-term") == 0);
		return 0;
	}
	if (strcmp(mode, "notify") == 0) {
		if (notify("STATUS=warming up") < 0 || notify("READY=1\nSTATUS=serving") < 0)
			return 4;
		wait_signals(0);
	}
	if (strcmp(mode, "watchdog") == 0 && argc > 2) {
		/* WATCHDOG=1 argv[2] times, each a quarter of WATCHDOG_USEC
		 * after the last, then silence. */
		long long usec = getenv("WATCHDOG_USEC") ? atoll(getenv("WATCHDOG_USEC")) : 0;
		printf("watchdog_usec %lld\n", usec);
		for (int i = atoi(argv[2]); usec > 0 && i > 0; i--) {
			if (notify("WATCHDOG=1") < 0)
				return 4;
			usleep(usec / 4);
		}
		printf("watchdog silent\n");
		wait_signals(0);
	}
	if (strcmp(mode, "forking") == 0)
		return forking(argc, argv);
	if (strcmp(mode, "forkbomb") == 0)
		return forkbomb();
	if (strcmp(mode, "hog") == 0 && argc > 2)
		return hog(atoll(argv[2]));
	if (strcmp(mode, "escape-stop") == 0)
		return escape_stop();
	if (strcmp(mode, "syscalls") == 0)
		return syscalls();
	if (strcmp(mode, "isolation") == 0) {
		isolation(argc, argv);
		return 0;
	}
	if (strcmp(mode, "landlock") == 0) {
		landlock(argc, argv);
		return 0;
	}
	if (strcmp(mode, "count") == 0 && argc > 2) {
		count(atol(argv[2]));
		return 0;
	}
	report(argc, argv);
	return 0;
}
