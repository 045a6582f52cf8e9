// Lines for stderr (the operational log and, by default, the audit log), written together once per turn of the event
// loop: one write for a burst of calls instead of one per line, which under load cost more than the rest of auditing.
// Whole lines only, in order; whatever is queued when the process exits is written then, synchronously.
import { writeSync } from "node:fs";

let queue: string[] = [];
let scheduled = false;
let exitHooked = false;

/** Queues `line` (ending in "\n") for stderr. */
export function writeStderrLine(line: string): void {
  queue.push(line);
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", writeQueuedSync);
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushStderr);
  }
}

/** Writes what is queued now. */
export function flushStderr(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const out = queue.length === 1 ? queue[0]! : queue.join("");
  queue = [];
  process.stderr.write(out);
}

function writeQueuedSync(): void {
  if (queue.length === 0) return;
  try {
    writeSync(2, queue.join(""));
  } catch {
    // Exiting: nowhere left to say so.
  }
  queue = [];
}
