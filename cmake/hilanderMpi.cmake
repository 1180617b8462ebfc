# libhilander_mpi (lib/mpi, include/hilander/mpi.h): hl_cluster over the ranks
# of an MPI communicator.  Built when HL_MPI is ON, or AUTO and an MPI C
# library is found, except in sanitizer, fuzz and fault-injection builds
# (Open MPI's own allocations would fail their leak checks) and in
# distribution builds (HL_INSTALL_RPATH=OFF: a package decides whether to
# ship the MPI library; HL_MPI=ON builds it there).  The core library never
# links MPI: libhilander_mpi.so carries a private copy of the core's objects
# (hidden) and exports only hl_mpi_* (lib/mpi/hilander_mpi.map).
set(HL_MPI_BUILT OFF)
if(HL_MPI STREQUAL "OFF")
  return()
endif()
if(HL_MPI STREQUAL "AUTO" AND (HL_SANITIZE OR HL_FUZZ OR HL_FAULT_INJECTION OR NOT HL_INSTALL_RPATH))
  message(STATUS "libhilander_mpi: not built in a sanitizer, fuzz, fault-injection or distribution "
                 "(HL_INSTALL_RPATH=OFF) build; HL_MPI=ON builds it")
  return()
endif()
if(NOT HL_MPI MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "HL_MPI must be AUTO, ON or OFF (is '${HL_MPI}')")
endif()
if(HL_MPI STREQUAL "ON")
  find_package(MPI REQUIRED COMPONENTS C)
else()
  find_package(MPI QUIET COMPONENTS C)
  if(NOT MPI_C_FOUND)
    message(STATUS "libhilander_mpi: no MPI found, not built (Debian: apt-get install libopenmpi-dev openmpi-bin)")
    return()
  endif()
endif()
set(HL_MPI_BUILT ON)

file(GLOB HL_MPI_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/lib/mpi/*.c)
add_library(hilander_mpi SHARED ${HL_MPI_SOURCES} $<TARGET_OBJECTS:hilander_objects>)
set_target_properties(hilander_mpi PROPERTIES
  VERSION ${PROJECT_VERSION} SOVERSION 0 C_VISIBILITY_PRESET hidden
  EXPORT_NAME hilander_mpi
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/lib/mpi/hilander_mpi.map)
target_include_directories(hilander_mpi PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_include_directories(hilander_mpi PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/lib)
target_compile_definitions(hilander_mpi PRIVATE HL_BUILDING_LIBRARY)
target_compile_options(hilander_mpi PRIVATE ${HL_WARNINGS} ${HL_SAN_FLAGS})
target_link_libraries(hilander_mpi PUBLIC MPI::MPI_C PRIVATE ${HL_LINK_LIBS})
# Callers use the core's public API too (hl_cluster_options_init,
# hl_status_str, ...): a program linking hilander::hilander_mpi gets both.
target_link_libraries(hilander_mpi INTERFACE hilander)
target_link_options(hilander_mpi PRIVATE -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/lib/mpi/hilander_mpi.map
                    -Wl,--no-undefined ${HL_SAN_FLAGS})
add_library(hilander::hilander_mpi ALIAS hilander_mpi)

install(TARGETS hilander_mpi EXPORT hilanderMpiTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/include/hilander/mpi.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/hilander)
install(EXPORT hilanderMpiTargets NAMESPACE hilander:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/hilander)
set(HL_MPI_PC_CFLAGS "")
foreach(dir ${MPI_C_INCLUDE_DIRS})
  string(APPEND HL_MPI_PC_CFLAGS " -I${dir}")
endforeach()
set(HL_MPI_PC_LIBS "")
foreach(lib ${MPI_C_LIBRARIES})
  string(APPEND HL_MPI_PC_LIBS " ${lib}")
endforeach()
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/hilander_mpi.pc.in ${CMAKE_CURRENT_BINARY_DIR}/hilander_mpi.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hilander_mpi.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

if(HL_BUILD_TOOLS)
  add_subdirectory(${CMAKE_CURRENT_SOURCE_DIR}/tools/hilander-mpi ${CMAKE_CURRENT_BINARY_DIR}/tools/hilander-mpi)
endif()
if(HL_BUILD_TESTS AND CHECK_FOUND)
  add_subdirectory(${CMAKE_CURRENT_SOURCE_DIR}/tests/mpi ${CMAKE_CURRENT_BINARY_DIR}/tests/mpi)
endif()
