/**
 * Where a held request stops: before the platform handles it ('request': released after its
 * client went away, it is dropped, as a request that never fully arrived), or after it was handled
 * with its answer withheld ('response': the work is done, the client may never hear of it).
 */
export type HoldPhase = 'request' | 'response';

/** One request stopped in a sandbox, so a test can act (kill a process) at that exact step. */
export interface Hold {
  readonly phase: HoldPhase;
  /** Resolves once a matching request is held. */
  readonly reached: Promise<void>;
  /** Lets the held request go on (or be dropped, when its client has gone). */
  release(): void;
}

interface Pending<T> {
  phase: HoldPhase;
  matches: (request: T) => boolean;
  claimed: boolean;
  arrive: () => void;
  released: Promise<void>;
  release: () => void;
}

/** The holds a sandbox was asked for; each catches the first request it matches, once. */
export class Holds<T> {
  private readonly pending: Pending<T>[] = [];

  add(matches: (request: T) => boolean, phase: HoldPhase): Hold {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.pending.push({ phase, matches, claimed: false, arrive, released, release });
    return { phase, reached, release };
  }

  /** The hold this request falls into, if any; its `released` resolves when the test lets it go. */
  claim(request: T): { phase: HoldPhase; released: Promise<void> } | undefined {
    const hold = this.pending.find((h) => !h.claimed && h.matches(request));
    if (!hold) return undefined;
    hold.claimed = true;
    hold.arrive();
    return hold;
  }

  /** Lets every request still held go (the sandbox is closing). */
  releaseAll(): void {
    for (const hold of this.pending) hold.release();
    this.pending.length = 0;
  }
}
