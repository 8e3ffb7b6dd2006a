// Boost.URL ships header-only in Debian's libboost1.81-dev; this is its one
// compiled translation unit, for the routers of both daemons.
#include <boost/url/src.hpp>
