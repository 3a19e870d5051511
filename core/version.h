/* core/version.h — the version of tcat, printed by `tcat --version` and
 * (later) stamped into every model file. */
#ifndef TCAT_CORE_VERSION_H
#define TCAT_CORE_VERSION_H

#define TCAT_VERSION "0.1.0"

#endif
