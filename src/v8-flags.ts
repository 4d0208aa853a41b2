import { setFlagsFromString } from 'node:v8';

/**
 * V8's allocation-site pretenuring off, set as the app loads (before the code
 * whose objects it would decide on runs). A request's rows, strings and
 * results live a few milliseconds, but with ten requests in flight many of
 * them are alive at a scavenge, so V8 judged their allocation sites
 * long-lived and allocated them in the old generation: there they died,
 * for the mark-compactor to sweep, and kept the young strings they pointed to
 * alive through scavenges (promoted in turn). Off, a history page costs
 * ~10 % less CPU (bench/README.md, "The history page meets its targets"). A
 * heuristic of the collector only: nothing the program does changes.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
