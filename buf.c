/* buf.c - bounded byte buffers and checked allocation. */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
oom(size_t n)
{
	fprintf(stderr, "uxmppd: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		oom(n);
	}
	return p;
}

void *
xcalloc(size_t count, size_t size)
{
	void *p;

	if (size != 0 && count > SIZE_MAX / size) {
		oom(SIZE_MAX);
	}
	p = calloc(count ? count : 1, size ? size : 1);
	if (p == NULL) {
		oom(count * size);
	}
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL) {
		oom(n);
	}
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max;
	b->err = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->data != NULL) {
		b->data[0] = '\0';
	}
}

/* Make room for n more bytes plus a NUL; 0 on success. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;

	if (b->err) {
		return -1;
	}
	if (n > SIZE_MAX - b->len - 1 || (b->max != 0 && b->len + n > b->max)) {
		b->err = 1;
		return -1;
	}
	need = b->len + n + 1;
	if (need <= b->cap) {
		return 0;
	}
	/* The first allocation holds the first append (64 bytes at least),
	 * not the next power of two: a write queue lives for one turn, and
	 * at the end of a login burst a turn holds 256 of them at once
	 * (bench-idle's pipelined login answers 1312 bytes: 2 KiB each
	 * rounded up, a resident heap high-water ~250 KiB higher). */
	cap = b->cap ? b->cap : need > 64 ? need : 64;
	while (cap < need) {
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	}
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) != 0) {
		return;
	}
	if (n > 0) {
		memcpy(b->data + b->len, p, n);
	}
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data != NULL) {
		b->data[b->len] = '\0';
	}
}
