/* mem.c - the memory budget: see mem.h. */
#include "mem.h"

#include <malloc.h>
#include <time.h>

#include "uxlimits.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MEM_ASAN 1
#endif
#ifdef MEM_ASAN
/* The sanitizer runtime's (sanitizer/allocator_interface.h, which gcc
 * does not ship). */
size_t	__sanitizer_get_current_allocated_bytes(void);
#endif

#define MEM_CACHE_MS	10

static struct {
	size_t	 budget;
	size_t	 used;
	long long measured_ms;	/* monotonic; 0: never */
} mem;

void
mem_set_budget(size_t bytes)
{
	mem.budget = bytes;
	mem.measured_ms = 0;
}

size_t
mem_budget(void)
{
	return mem.budget;
}

size_t
mem_used_bytes(void)
{
#ifdef MEM_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
#endif
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum mem_state
mem_state(void)
{
	long long t;

	if (mem.budget == 0) {
		return MEM_OK;
	}
	t = now_ms();
	if (mem.measured_ms == 0 || t - mem.measured_ms >= MEM_CACHE_MS) {
		mem.used = mem_used_bytes();
		mem.measured_ms = t;
	}
	if (mem.used >= mem.budget) {
		return MEM_OVER;
	}
	if (mem.used >= mem.budget / 100 * MEM_NEAR_PERCENT) {
		return MEM_NEAR;
	}
	return MEM_OK;
}
