/*
 * buf.h - one growable, bounded byte buffer with a sticky error flag.
 *
 * Every buffer has a hard cap (max); an append that would pass it sets
 * err and is dropped, so writers check b->err once at the end instead of
 * after every call.  Allocation failure aborts (the caps are what stop
 * hostile peers; OOM means the host is broken).
 */
#ifndef UXMPPD_BUF_H
#define UXMPPD_BUF_H

#include <stddef.h>

struct buf {
	char	*data;	/* NUL-terminated when len < cap; owned by the buf */
	size_t	 len;	/* bytes used */
	size_t	 cap;	/* bytes allocated */
	size_t	 max;	/* hard cap on len; 0 means unbounded */
	int	 err;	/* set once an append was refused; sticky */
};

/* Set up an empty buffer (no allocation until the first append). */
void	buf_init(struct buf *b, size_t max);
/* Release the memory; the buffer is empty and reusable afterwards. */
void	buf_free(struct buf *b);
/* Forget the contents but keep the allocation. */
void	buf_reset(struct buf *b);
/* Append n bytes; on passing max sets err and appends nothing. */
void	buf_append(struct buf *b, const void *p, size_t n);
void	buf_puts(struct buf *b, const char *s);
void	buf_putc(struct buf *b, char c);
void	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Drop n bytes from the front (a write queue after a partial write). */
void	buf_consume(struct buf *b, size_t n);

/* Checked allocation: abort on OOM or size overflow. */
void	*xmalloc(size_t n);
void	*xcalloc(size_t count, size_t size);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);
char	*xstrndup(const char *s, size_t n);

#endif
