/**
 * How the java17 image starts the JVM: paths inside the image and the flags,
 * shared by the image plan, the CDS recording and the tests.
 */

/** The jlink-ed runtime's place in the image (also /usr/bin/java). */
export const JAVA_HOME_IN_IMAGE = '/opt/java';
export const JAVA_IN_IMAGE = `${JAVA_HOME_IN_IMAGE}/bin/java`;
/** Hearth's own files: the agent, lambda-core and the CDS archive. */
export const HEARTH_DIR_IN_IMAGE = '/opt/hearth';
export const LAMBDA_CORE_IN_IMAGE = `${HEARTH_DIR_IN_IMAGE}/lambda-core.jar`;
export const CDS_ARCHIVE_IN_IMAGE = `${HEARTH_DIR_IN_IMAGE}/agent.jsa`;
/** The class path exactly as the CDS archive records it (it must match at run time). */
export const CLASSPATH_IN_IMAGE = `${HEARTH_DIR_IN_IMAGE}/hearth-agent.jar:${LAMBDA_CORE_IN_IMAGE}`;
export const AGENT_MAIN_CLASS = 'io.hearth.agent.Bootstrap';

/**
 * - SerialGC: one GC thread and the smallest footprint; a function has at
 *   most a core or two, and its heap is small.
 * - C1 only (TieredStopAtLevel=1): compiles sooner and cheaper; short
 *   invocations rarely live long enough for C2 to pay off (Lambda's own advice).
 * - Heap at 70% of the container's memory limit (the JVM reads the cgroup
 *   limit), so a 128 MB function has ~90 MB of heap and room for metaspace,
 *   code and thread stacks; 64 MB works for small functions. Both
 *   percentages: below ~256 MB of memory the JVM sizes the heap by
 *   MinRAMPercentage (default 50), not MaxRAMPercentage.
 * - No perf data file (it is an mmap-ed file in /tmp, and costs start time).
 * - A crash log, if any, goes to /tmp: /var/task is read-only.
 */
export const JVM_FLAGS = [
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:MinRAMPercentage=70',
  '-XX:MaxRAMPercentage=70',
  '-XX:-UsePerfData',
  '-XX:ErrorFile=/tmp/hs_err_pid%p.log',
];

/** The flags that use the archive the build recorded (auto: a JVM that cannot map it starts without). */
export const CDS_FLAGS = ['-Xshare:auto', `-XX:SharedArchiveFile=${CDS_ARCHIVE_IN_IMAGE}`];
