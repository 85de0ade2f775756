#!/bin/sh
# jobctl links no daemon code (issue 12): its CMake link libraries do not name jobd_core_lib, and
# the binary defines none of the functions jobd_core_lib's objects define (what a static link
# would pull in, whichever way it came).
# usage: jobctl_links.sh JOBCTL CORE_LIB_ARCHIVE LINK_LIBRARIES (colon-separated)
jobctl=${1:?usage: jobctl_links.sh JOBCTL CORE_LIB LINK_LIBRARIES}
core=${2:?usage: jobctl_links.sh JOBCTL CORE_LIB LINK_LIBRARIES}
libraries=$3
status=0
case ":$libraries:" in
*":jobd_core_lib:"*)
    echo "jobctl_lib links jobd_core_lib (the daemon): link common/'s jobd_common instead"
    status=1
    ;;
esac
[ -f "$jobctl" ] || { echo "no $jobctl"; exit 1; }
[ -f "$core" ] || { echo "no $core"; exit 1; }
core_symbols=$(nm --defined-only "$core" 2>/dev/null | awk '$2 == "T" {print $3}' | sort -u)
[ -n "$core_symbols" ] || { echo "no functions in $core"; exit 1; }
jobctl_symbols=$(nm --defined-only "$jobctl" | awk '$2 == "T" || $2 == "t" {print $3}' | sort -u)
both=$(printf '%s\n%s\n' "$core_symbols" "$jobctl_symbols" | sort | uniq -d | head -n 10)
if [ -n "$both" ]; then
    echo "$jobctl holds daemon code (functions of $core), e.g.:"
    printf '  %s\n' $both
    status=1
fi
[ "$status" -ne 0 ] || echo "jobctl links no daemon code"
exit $status
