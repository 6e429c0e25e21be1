/*
 * version: postdesk's version, in one place.  The Makefile reads it from
 * here for the Debian package (make deb); the programs print it for
 * --version.
 */
#ifndef POSTDESK_VERSION_H
#define POSTDESK_VERSION_H

#define POSTDESK_VERSION "0.1.0"

#endif
