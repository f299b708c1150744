/*
 * ifind_auth: lockout after repeated failed password logins, for PostgreSQL 15.
 *
 * Build and install (needs the server headers, e.g. Debian's postgresql-server-dev-15):
 *
 *     make -C pg/ifind_auth with_llvm=no
 *     make -C pg/ifind_auth with_llvm=no install
 *
 * then, in postgresql.conf (after auth_delay, so that a refused attempt is delayed too):
 *
 *     shared_preload_libraries = 'auth_delay,ifind_auth'
 *     auth_delay.milliseconds = 500
 *     ifind_auth.max_failures = 5        # 0 turns the lockout off
 *     ifind_auth.lockout_seconds = 300
 *     ifind_auth.max_names = 8192        # table size (restart to change)
 *
 * What it does. The module counts, per user name as the client sent it, consecutive failed
 * authentications through a password method of pg_hba.conf (scram-sha-256, md5, password);
 * trust, peer, cert and the other methods are neither counted nor refused, so an account that
 * logs in over a trusted local socket can never be locked out by strangers. The failure that
 * reaches ifind_auth.max_failures locks the name for ifind_auth.lockout_seconds; while it is
 * locked every attempt for it (right password or wrong, existing role or not) ends with the
 * same
 *
 *     FATAL 28000: too many failed logins for this name; try again in N s
 *
 * (N the seconds left, rounded up), after the same auth_delay wait as a wrong password. A
 * successful login resets the name's count; when a lock is over the name starts afresh.
 * Attempts during a lock neither extend it nor count.
 *
 * Nothing reveals whether the password was right during a lock: the chained hooks (auth_delay)
 * are told the attempt failed, so they wait either way, and the SCRAM server-final message
 * that PostgreSQL queues (unsent) after a right password is discarded: the refusal is written
 * straight to the socket and the queued output is never flushed. Nothing reveals whether a
 * role exists either: the module never looks roles up, and its message names no one.
 *
 * The table lives in shared memory and has ifind_auth.max_names entries; a successful login
 * frees its name's entry. When a new name fails and the table is full, the entry given up is,
 * in this order: a free one; the unlocked (or no longer locked) entry whose last failure is the
 * oldest; only when every entry is locked, the lock that ends soonest. So to make the module
 * forget a lock, an attacker must first hold every entry locked at once, that is make
 * max_names x max_failures failed logins through the real login path, each delayed.
 */
#include "postgres.h"

#include <errno.h>

#include "common/hashfn.h"
#include "libpq/auth.h"
#include "libpq/hba.h"
#include "libpq/libpq.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* The exact text clients recognise (ifind's src/db/logins.rs parses it). */
#define LOCKOUT_MESSAGE "too many failed logins for this name; try again in %d s"

typedef struct IfindAuthEntry
{
	bool		used;
	uint32		hash;			/* hash_bytes of name, to skip most comparisons */
	int			failures;		/* consecutive failures since the last success or lock */
	TimestampTz last_failure;
	TimestampTz locked_until;	/* 0: not locked */
	char		name[NAMEDATALEN];
} IfindAuthEntry;

typedef struct IfindAuthShared
{
	LWLock	   *lock;
	int			size;
	IfindAuthEntry entries[FLEXIBLE_ARRAY_MEMBER];
} IfindAuthShared;

static int	max_failures = 5;
static int	lockout_seconds = 300;
static int	max_names = 8192;

static IfindAuthShared *shared = NULL;

static ClientAuthentication_hook_type prev_client_auth_hook = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
shared_size(void)
{
	return add_size(offsetof(IfindAuthShared, entries),
					mul_size(max_names, sizeof(IfindAuthEntry)));
}

static void
ifind_auth_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	RequestNamedLWLockTranche("ifind_auth", 1);
}

static void
ifind_auth_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("ifind_auth", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_size());
		shared->lock = &(GetNamedLWLockTranche("ifind_auth"))->lock;
		shared->size = max_names;
	}
	LWLockRelease(AddinShmemInitLock);
}

static bool
is_password_method(UserAuth method)
{
	return method == uaSCRAM || method == uaMD5 || method == uaPassword;
}

/*
 * The entry of `name`; with `create`, one is made for it (see the order of eviction at the
 * top). Called with the lock held exclusively.
 */
static IfindAuthEntry *
find_entry(const char *name, uint32 hash, TimestampTz now, bool create)
{
	IfindAuthEntry *free_slot = NULL;
	IfindAuthEntry *oldest_unlocked = NULL;
	IfindAuthEntry *soonest_lock = NULL;
	IfindAuthEntry *victim;
	int			i;

	for (i = 0; i < shared->size; i++)
	{
		IfindAuthEntry *e = &shared->entries[i];

		if (!e->used)
		{
			if (free_slot == NULL)
				free_slot = e;
			continue;
		}
		if (e->hash == hash && strcmp(e->name, name) == 0)
			return e;
		if (e->locked_until > now)
		{
			if (soonest_lock == NULL || e->locked_until < soonest_lock->locked_until)
				soonest_lock = e;
		}
		else if (oldest_unlocked == NULL || e->last_failure < oldest_unlocked->last_failure)
			oldest_unlocked = e;
	}
	if (!create)
		return NULL;
	victim = free_slot ? free_slot : (oldest_unlocked ? oldest_unlocked : soonest_lock);
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof(IfindAuthEntry));
	victim->used = true;
	victim->hash = hash;
	strlcpy(victim->name, name, NAMEDATALEN);
	return victim;
}

/*
 * Output that bypasses the connection's send buffer: the refusal is written straight to the
 * socket, and what the authentication exchange left queued there (the SCRAM server-final
 * message of a right password) is never sent, since nothing flushes that buffer any more.
 */
static bool
write_all(const char *data, size_t len)
{
	while (len > 0)
	{
		ssize_t		n = secure_write(MyProcPort, (void *) data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= n;
	}
	return true;
}

static int
direct_putmessage(char msgtype, const char *s, size_t len)
{
	char		header[5];
	uint32		n32 = pg_hton32((uint32) (len + 4));

	header[0] = msgtype;
	memcpy(header + 1, &n32, 4);
	if (!write_all(header, sizeof(header)) || !write_all(s, len))
		return EOF;
	return 0;
}

static void
direct_putmessage_noblock(char msgtype, const char *s, size_t len)
{
	(void) direct_putmessage(msgtype, s, len);
}

static void
direct_comm_reset(void)
{
}

static int
direct_flush(void)
{
	return 0;
}

static bool
direct_is_send_pending(void)
{
	return false;
}

static const PQcommMethods direct_methods = {
	direct_comm_reset,
	direct_flush,
	direct_flush,
	direct_is_send_pending,
	direct_putmessage,
	direct_putmessage_noblock
};

static void
refuse(TimestampTz until)
{
	int64		left = until - GetCurrentTimestamp();
	int			secs;

	if (left <= 0)
		secs = 1;
	else
		secs = (int) ((left + USECS_PER_SEC - 1) / USECS_PER_SEC);
	if (MyProcPort != NULL)
		PqCommMethods = &direct_methods;
	ereport(FATAL,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg(LOCKOUT_MESSAGE, secs)));
}

static void
ifind_auth_check(Port *port, int status)
{
	bool		locked = false;
	TimestampTz until = 0;

	/*
	 * STATUS_EOF: the client left without answering (psql does so to ask for the password); it
	 * tried nothing.
	 */
	if (shared != NULL && max_failures > 0 && status != STATUS_EOF &&
		port->hba != NULL && is_password_method(port->hba->auth_method) &&
		port->user_name != NULL && port->user_name[0] != '\0')
	{
		const char *name = port->user_name;
		uint32		hash = hash_bytes((const unsigned char *) name, strlen(name));
		TimestampTz now = GetCurrentTimestamp();
		IfindAuthEntry *e;

		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		e = find_entry(name, hash, now, status != STATUS_OK);
		if (e != NULL)
		{
			if (e->locked_until > now)
			{
				locked = true;
				until = e->locked_until;
			}
			else
			{
				if (e->locked_until != 0)
				{
					/* The lock is over: the name starts afresh. */
					e->failures = 0;
					e->locked_until = 0;
				}
				if (status == STATUS_OK)
					e->used = false;
				else
				{
					e->failures++;
					e->last_failure = now;
					if (e->failures >= max_failures)
					{
						e->locked_until = now + (int64) lockout_seconds * USECS_PER_SEC;
						locked = true;
						until = e->locked_until;
					}
				}
			}
		}
		LWLockRelease(shared->lock);
	}

	/* A refused attempt is a failure for the hooks after this one (auth_delay waits). */
	if (prev_client_auth_hook)
		prev_client_auth_hook(port, locked ? STATUS_ERROR : status);

	if (locked)
		refuse(until);
}

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ifind_auth must be loaded with shared_preload_libraries")));

	DefineCustomIntVariable("ifind_auth.max_failures",
							"Consecutive failed password logins that lock a user name out.",
							"0 turns the lockout off.",
							&max_failures,
							5, 0, 1000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("ifind_auth.lockout_seconds",
							"How long a locked-out user name is refused.",
							NULL,
							&lockout_seconds,
							300, 1, 7 * 24 * 3600,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("ifind_auth.max_names",
							"User names with failed logins that ifind_auth keeps track of.",
							NULL,
							&max_names,
							8192, 16, 1000000,
							PGC_POSTMASTER,
							0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("ifind_auth");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ifind_auth_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ifind_auth_shmem_startup;
	prev_client_auth_hook = ClientAuthentication_hook;
	ClientAuthentication_hook = ifind_auth_check;
}
