/*
 * upload_http.h - the HTTP side of XEP-0363 file upload: the PUT and
 * GET/HEAD handlers under upload_path_prefix(), registered on httpd.h's
 * path table.  upload.h decides what may go ahead; this file moves the
 * bytes between the connection and the disk.
 *
 * PUT  PREFIX/SLOT.EXPIRY.SIG/NAME: the body goes to data_dir/upload/
 *      SLOT.part as it arrives (never whole in memory), is fsynced, renamed
 *      to SLOT and the directory fsynced before the 201 Created (§6: the
 *      file is then served).  Refusals: 400 (Content-Length smaller than
 *      the slot, wrong Content-Type), 403 (signature, expired URL), 404,
 *      409 (already uploaded, or a PUT to it under way), 411 (no
 *      Content-Length: chunked), 413 (larger than the slot), 503 with
 *      Retry-After (http_upload_max_concurrent PUTs under way, or the
 *      disk cannot take the file: no space for its size, over the
 *      process's file size limit, or the upload directory not writable).
 * GET, HEAD PREFIX/SLOT/NAME: the file streamed from disk with its
 *      Content-Type, Accept-Ranges, one byte range (RFC 7233: 206 with
 *      Content-Range; 416 with the size when unsatisfiable; several
 *      ranges or an If-Range get the whole file), 404 when unknown or
 *      expired, 304 for an If-Modified-Since equal to its Last-Modified;
 *      the Content-Security-Policy of XEP-0363 §9.1, Content-Disposition
 *      inline for images, audio, video and plain text (else attachment)
 *      with the file name, as Prosody's mod_http_file_share.
 * OPTIONS: the CORS preflight.  Every answer carries the CORS headers of
 *      XEP-0363 §8 (the Origin echoed, with credentials, or "*").
 */
#ifndef UXMPPD_UPLOAD_HTTP_H
#define UXMPPD_UPLOAD_HTTP_H

/* Register the handlers when http_upload is on (after upload_init()). */
void	upload_http_init(void);
/* Bytes of files stored by PUTs and of bodies answered to GETs since
 * start (metrics). */
void	upload_http_bytes(unsigned long long *stored,
	    unsigned long long *served);

#endif
