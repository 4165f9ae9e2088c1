/*
 * mem.h - the memory budget (max_memory_mb): how much heap the server
 * holds, and whether that is near or over the budget.
 *
 * The count is the allocator's own, not buf.c's wrappers: they see every
 * allocation of ours but none of the frees (the tree frees with plain
 * free()), and mbedTLS allocates its ~36 KiB per TLS session itself.  So
 * it is glibc's mallinfo2() (bytes in use, arenas and mmapped chunks), or
 * under AddressSanitizer, whose allocator replaces glibc's, its
 * __sanitizer_get_current_allocated_bytes().  Neither counts code, stacks
 * or the kernel's socket buffers: leave headroom below the RAM there is.
 */
#ifndef UXMPPD_MEM_H
#define UXMPPD_MEM_H

#include <stddef.h>

enum mem_state {
	MEM_OK,		/* no budget, or below MEM_NEAR_PERCENT of it */
	MEM_NEAR,	/* refuse new connections */
	MEM_OVER	/* also close the slow readers with the most queued */
};

/* Set the budget in bytes (0: none). */
void		mem_set_budget(size_t bytes);
size_t		mem_budget(void);
/* Heap bytes in use now (a walk of the allocator's bins: not for every
 * call site; mem_state() caches it). */
size_t		mem_used_bytes(void);
/* The state for the use measured at most 10 ms ago. */
enum mem_state	mem_state(void);

#endif
