/* The served blocks of the malloc family (malloc.c): where each block
 * starts and which mapping holds it, in a table of our own (open
 * addressing on the block's address, in a private mapping: no malloc).
 *
 * The lock is taken by program threads only (helpers never allocate, I1),
 * with every signal blocked, after the mm lock and before the table lock
 * (I4), and is held across no access to user memory. */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "blocks.h"
#include "lf.h"
#include "signals.h"

#define BLOCKS (1u << 20)
#define DELETED ((uintptr_t)1)
static struct lf_block *blocks;
_Atomic size_t lf_blocks_live;  /* live entries */
static size_t ndeleted;         /* tombstones */
static pthread_mutex_t block_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread sigset_t block_mask __attribute__((tls_model("initial-exec")));

static void blocks_lock(void)
{
	sigset_t all;
	sigfillset(&all);
	lf_real_sigmask(SIG_BLOCK, &all, &block_mask);
	pthread_mutex_lock(&block_lock);
	LF_LOCK_TAKEN(LF_LOCK_BLOCKS);
}

static void blocks_unlock(void)
{
	LF_LOCK_DROPPED(LF_LOCK_BLOCKS);
	pthread_mutex_unlock(&block_lock);
	lf_real_sigmask(SIG_SETMASK, &block_mask, NULL);
}

void lf_blocks_fork_prepare(void) { blocks_lock(); }
void lf_blocks_fork_parent(void) { blocks_unlock(); }
/* The mask comes back with the mm lock's (locks.c), the outermost. */
void lf_blocks_fork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	block_lock = fresh;
}

static size_t slot_of(uintptr_t p) { return (size_t)((p >> 12) * 0x9E3779B97F4A7C15ULL >> 44); }

static struct lf_block *new_table(void)
{
	void *t = lf_real_mmap(NULL, BLOCKS * sizeof *blocks, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return t == MAP_FAILED ? NULL : t;
}

/* Tombstones make misses walk further and further: when live entries and
 * tombstones fill half the table, put the live ones back in place, in a
 * fresh table (lock held). */
static void rebuild(void)
{
	struct lf_block *old = blocks, *t = new_table();
	if (!t)
		return;
	blocks = t;
	for (size_t i = 0; i < BLOCKS; i++) {
		if (old[i].ptr <= DELETED)
			continue;
		size_t j = slot_of(old[i].ptr);
		while (blocks[j].ptr)
			j = (j + 1) % BLOCKS;
		blocks[j] = old[i];
	}
	ndeleted = 0;
	lf_real_munmap(old, BLOCKS * sizeof *blocks);
}

int lf_blocks_put(uintptr_t ptr, uintptr_t map, size_t maplen)
{
	int rc = -1;
	blocks_lock();
	if (!blocks)
		blocks = new_table();
	if (blocks && lf_blocks_live + ndeleted >= BLOCKS / 2)
		rebuild();
	if (blocks && lf_blocks_live < BLOCKS / 2) {
		for (size_t i = slot_of(ptr);; i = (i + 1) % BLOCKS)
			if (blocks[i].ptr <= DELETED) {
				if (blocks[i].ptr == DELETED)
					ndeleted--;
				blocks[i] = (struct lf_block){ptr, map, maplen};
				lf_blocks_live++;
				rc = 0;
				break;
			}
	}
	blocks_unlock();
	return rc;
}

bool lf_blocks_get(uintptr_t ptr, struct lf_block *out, bool take)
{
	bool found = false;
	blocks_lock();
	for (size_t i = slot_of(ptr); blocks && blocks[i].ptr; i = (i + 1) % BLOCKS)
		if (blocks[i].ptr == ptr) {
			*out = blocks[i];
			if (take) {
				blocks[i].ptr = DELETED;
				lf_blocks_live--;
				ndeleted++;
			}
			found = true;
			break;
		}
	blocks_unlock();
	return found;
}
