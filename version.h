/*
 * version.h - the one version string: XEP-0092 answers, `uxmppd
 * --version` and `uxmppd status`.
 */
#ifndef UXMPPD_VERSION_H
#define UXMPPD_VERSION_H

#define UXMPPD_VERSION	"0.1"

#endif
