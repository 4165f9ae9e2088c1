/*
 * xml.h - incremental XML stream parser, stanza trees and serializer.
 *
 * An XMPP stream is one long XML document.  The parser is pushed bytes in
 * chunks of any size and reports three events: the stream header, each
 * complete top-level child (a stanza, delivered as an element tree), and
 * the stream close.  It buffers nothing beyond the stanza in progress.
 *
 * Trees live in an arena: every node, attribute and string of one tree is
 * freed by a single xml_free() on its root.
 */
#ifndef UXMPPD_XML_H
#define UXMPPD_XML_H

#include <stddef.h>

#include "buf.h"

#define XML_NS_STREAM	"http://etherx.jabber.org/streams"
#define XML_NS_CLIENT	"jabber:client"
#define XML_NS_XML	"http://www.w3.org/XML/1998/namespace"
/* Namespace of the declarations reported on the stream header (below). */
#define XML_NS_XMLNS	"http://www.w3.org/2000/xmlns/"

/* Error codes returned by xml_feed(); all negative. */
enum xml_error {
	XML_OK = 0,
	XML_STOPPED = 1,		/* a callback asked to stop; not an error */
	XML_ERR_SYNTAX = -1,		/* not well-formed */
	XML_ERR_UTF8 = -2,		/* invalid UTF-8 or a char XML forbids */
	XML_ERR_ENTITY = -3,		/* unknown/undefined entity reference */
	XML_ERR_RESTRICTED = -4,	/* DTD, PI, comment: RFC 6120 §11.1 */
	XML_ERR_NS_UNBOUND = -5,	/* prefix without a declaration */
	XML_ERR_DUP_ATTR = -6,		/* the same attribute twice */
	XML_ERR_TAG_MISMATCH = -7,	/* </b> closing <a> */
	XML_ERR_LIMIT_STANZA = -8,	/* stanza larger than max_stanza_bytes */
	XML_ERR_LIMIT_DEPTH = -9,	/* nesting deeper than max_depth */
	XML_ERR_LIMIT_ATTRS = -10,	/* more than max_attrs on one element */
	XML_ERR_LIMIT_NAME = -11,	/* a name longer than max_name_len */
	XML_ERR_LIMIT_VALUE = -12,	/* attribute value > max_attr_value_len */
	XML_ERR_NOT_STREAM = -13,	/* root is not <stream:stream> (when required) */
	XML_ERR_TEXT_AT_TOP = -14,	/* non-whitespace text between stanzas */
	XML_ERR_AFTER_CLOSE = -15,	/* data after </stream:stream> */
	XML_ERR_NS_DECL = -16,		/* illegal xmlns/xml prefix declaration */
	XML_ERR_ENCODING = -17,		/* XML declaration names a non-UTF-8 encoding */
};

struct xml_limits {
	size_t	max_stanza_bytes;	/* raw bytes of one stanza, default 256 KiB */
	unsigned max_depth;		/* element depth inside a stanza, default 32 */
	unsigned max_attrs;		/* attributes per element, default 64 */
	size_t	max_name_len;		/* element/attribute name, default 256 */
	size_t	max_attr_value_len;	/* default 64 KiB */
};
/*
 * Besides these, the tree of one stanza may take at most 8 times
 * max_stanza_bytes (+ 64 KiB) of arena memory; a stanza of many tiny
 * elements past that fails with XML_ERR_LIMIT_STANZA.
 */

/* Fill *l with the defaults above. */
void	xml_limits_default(struct xml_limits *l);

enum xml_node_type { XML_ELEMENT, XML_TEXT };

struct xml_attr {
	struct xml_attr	*next;
	const char	*name;		/* local name */
	const char	*ns;		/* resolved namespace, NULL if unprefixed */
	const char	*prefix;	/* original prefix (for serializing), or NULL */
	const char	*value;		/* decoded, NUL-terminated */
};

struct xml_node {
	enum xml_node_type type;
	struct xml_node	*parent;
	struct xml_node	*next;		/* next sibling */
	struct xml_node	*first_child;
	struct xml_node	*last_child;
	struct xml_arena *arena;	/* shared by every node of the tree */
	/* XML_ELEMENT */
	const char	*name;		/* local name */
	const char	*ns;		/* resolved namespace URI ("" if none) */
	struct xml_attr	*attrs;
	/* XML_TEXT */
	const char	*text;		/* decoded, NUL-terminated */
	size_t		 text_len;
};

/*
 * Parser callbacks.  Each may return non-zero to make xml_feed() stop right
 * after the event (used for stream restarts: the rest of the chunk belongs
 * to the next stream).
 *
 * stream_open: the header (<stream:stream ...>) as an element without
 *   children; borrowed, valid only during the call.  Besides its ordinary
 *   attributes it carries its namespace declarations as attributes in
 *   namespace XML_NS_XMLNS: xmlns='jabber:client' as local name "xmlns"
 *   (prefix NULL), xmlns:stream='...' as local name "stream" (prefix
 *   "xmlns"); so xml_attr_ns(header, XML_NS_XMLNS, "xmlns") is the stream's
 *   default (content) namespace.  Its declarations stay in scope for every
 *   stanza: an unprefixed stanza takes the header's default namespace.
 * stanza: a complete top-level child; ownership passes to the callback,
 *   which frees it with xml_free().
 * stream_close: </stream:stream> arrived.
 */
struct xml_callbacks {
	int	(*stream_open)(void *ud, const struct xml_node *header);
	int	(*stanza)(void *ud, struct xml_node *stanza);
	int	(*stream_close)(void *ud);
};

struct xml_parser;

/*
 * New parser.  With require_stream set the root must be
 * <stream:stream xmlns:stream='http://etherx.jabber.org/streams'>; otherwise
 * any root element is accepted and reported through stream_open (used to
 * parse standalone documents: see xml_parse_document()).  lim may be NULL
 * for the defaults.  Caller frees with xml_parser_free().
 */
struct xml_parser *xml_parser_new(const struct xml_limits *lim,
	    const struct xml_callbacks *cb, void *ud, int require_stream);
void	xml_parser_free(struct xml_parser *p);
/* Back to the state of a new parser (stream restart); keeps limits/callbacks. */
void	xml_parser_reset(struct xml_parser *p);

/*
 * Push len bytes.  Returns XML_OK when all were consumed, XML_STOPPED when a
 * callback asked to stop (*used tells how many bytes were consumed; the
 * caller feeds the rest later), or a negative xml_error.  After an error the
 * parser stays failed until xml_parser_reset().  used may be NULL.
 */
int	xml_feed(struct xml_parser *p, const char *data, size_t len, size_t *used);
/*
 * Heap bytes the parser holds besides its struct (stream header bindings,
 * a cut token, a stanza in progress).  Between stanzas this is only the
 * header's namespace bindings (about 100 bytes on a client stream).
 */
size_t	xml_parser_idle_bytes(const struct xml_parser *p);
/* sizeof(struct xml_parser), for memory accounting. */
size_t	xml_parser_sizeof(void);
/* Line (1-based) and byte offset of the parser's current position. */
void	xml_position(const struct xml_parser *p, unsigned long *line,
	    unsigned long long *byte);

/* Human-readable message for an error code. */
const char *xml_strerror(int err);
/* RFC 6120 §4.9.3 stream error condition for an error code, e.g.
 * "not-well-formed", "restricted-xml", "policy-violation". */
const char *xml_error_condition(int err);

/*
 * Parse one complete standalone document (no stream wrapper) into a tree,
 * e.g. the XML block of a scenario file.  Namespaces not declared default
 * to default_ns (may be NULL).  Returns the root or NULL with *err set.
 * Caller frees with xml_free().
 */
struct xml_node *xml_parse_document(const char *data, size_t len,
	    const char *default_ns, int *err);

/*
 * Like xml_parse_document() but data may hold any number of sibling
 * elements (whitespace between them is ignored): returns a synthetic
 * element named "fragment" in default_ns whose children are those
 * elements, or NULL with *err set.  Caller frees with xml_free().
 *
 * Both functions allow a leading XML declaration; a document may be of
 * any size.
 */
struct xml_node *xml_parse_fragment(const char *data, size_t len,
	    const char *default_ns, int *err);
/* xml_parse_fragment() with prefix (may be NULL) predeclared as
 * prefix_uri (both copied as needed): the scenario runner's "scansion",
 * which scenario files use without declaring it. */
struct xml_node *xml_parse_fragment_prefixed(const char *data, size_t len,
	    const char *default_ns, const char *prefix, const char *prefix_uri,
	    int *err);

/* ---- tree access ---- */

/* Value of the unnamespaced attribute name, or NULL.  Borrowed. */
const char *xml_attr(const struct xml_node *el, const char *name);
/* Value of attribute name in namespace ns (e.g. XML_NS_XML, "lang"). */
const char *xml_attr_ns(const struct xml_node *el, const char *ns,
	    const char *name);
/* First child element with this name and namespace; NULL matches any. */
struct xml_node *xml_child(const struct xml_node *el, const char *name,
	    const char *ns);
/* Next sibling element after 'after' with this name and namespace. */
struct xml_node *xml_next(const struct xml_node *after, const char *name,
	    const char *ns);
/* Text of the first text child, or "" when there is none.  Borrowed. */
const char *xml_text(const struct xml_node *el);
/* Number of child elements. */
size_t	xml_child_count(const struct xml_node *el);

/* ---- building ---- */

/* New tree with its own arena; ns may be NULL for "".  Caller xml_free()s. */
struct xml_node *xml_new(const char *name, const char *ns);
/* Append a child element; ns NULL means the parent's namespace. */
struct xml_node *xml_add(struct xml_node *parent, const char *name,
	    const char *ns);
/* Append a child element holding text (convenience, e.g. <body>hi</body>). */
struct xml_node *xml_add_text_child(struct xml_node *parent, const char *name,
	    const char *ns, const char *text);
/* Set (replace) an unnamespaced attribute; value NULL removes it. */
void	xml_set_attr(struct xml_node *el, const char *name, const char *value);
/* Set a namespaced attribute (e.g. xml:lang); value NULL removes it. */
void	xml_set_attr_ns(struct xml_node *el, const char *ns, const char *prefix,
	    const char *name, const char *value);
/* Append text, merged with a trailing text child. */
void	xml_add_text(struct xml_node *el, const char *text, size_t len);
/* Deep-copy src (from any tree) as the last child of parent. */
struct xml_node *xml_copy_into(struct xml_node *parent,
	    const struct xml_node *src);
/* Deep-copy src into a new tree.  Caller xml_free()s. */
struct xml_node *xml_clone(const struct xml_node *src);
/* Unlink a node from its parent (memory stays in the arena until xml_free). */
void	xml_unlink(struct xml_node *node);
/* Free the whole tree node belongs to (call on the root). NULL is fine. */
void	xml_free(struct xml_node *root);
/* Copy a string into the tree's arena; borrowed until xml_free. */
const char *xml_strdup(struct xml_node *any_node, const char *s);

/* ---- serializing ---- */

/*
 * Append el and its subtree to out.  Namespaces are declared (xmlns='...')
 * only where an element's namespace differs from its parent's; parent_ns
 * is the namespace in scope where el is written (XML_NS_CLIENT for a stanza
 * on a client stream).  Escapes & < > " ' in attributes and & < > in text;
 * CR in text and TAB/LF/CR in attributes become character references so
 * that they survive a re-parse.  Namespaced attributes are written with
 * their original prefix (xml:lang as xml:), declared on the element.
 */
void	xml_serialize(const struct xml_node *el, const char *parent_ns,
	    struct buf *out);
/* Append s escaped for an attribute value (in_attr) or for text. */
void	xml_escape(struct buf *out, const char *s, size_t len, int in_attr);

#endif
