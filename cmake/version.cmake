# Writes the build-provenance header at build time, so the git revision is
# that of the sources actually compiled (with "-dirty" for uncommitted
# changes), not of the last configure. configure_file rewrites OUT only when
# its content changes, so an unchanged revision triggers no recompilation.
# Usage: cmake -DSRC=dir -DIN=version.h.in -DOUT=version.h -DRUNEXP_VERSION=...
#        -DRUNEXP_BUILD_TYPE=... -DRUNEXP_BUILD_FLAGS=... -DRUNEXP_COMPILER=...
#        [-DGIT=git] -P version.cmake
set(RUNEXP_GIT_REVISION "unknown")
if(GIT AND EXISTS "${SRC}/.git")
  execute_process(COMMAND ${GIT} describe --always --dirty --abbrev=12
                  WORKING_DIRECTORY ${SRC}
                  OUTPUT_VARIABLE rev OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0 AND rev)
    set(RUNEXP_GIT_REVISION "${rev}")
  endif()
endif()
configure_file(${IN} ${OUT} @ONLY)
