/** A source that runs in the audio plane's worker, as the capture controller sees it. */
import type { SourceSpec } from "../audio/source_factory.ts";
import type {
  PeriodSink,
  Source,
  SourceFormat,
  SourceKind,
  SourceListener,
} from "../audio/source.ts";

/** What a PlaneSource asks of the plane (./worker_plane.ts). */
export interface SourceHost {
  nextGen(): number;
  startSource(
    gen: number,
    spec: SourceSpec,
    ptimeMs: number,
    sink: PeriodSink,
    listener: SourceListener,
  ): Promise<SourceFormat>;
  stopSource(gen: number): Promise<void>;
}

export class PlaneSource implements Source {
  private gen = 0;
  constructor(
    readonly kind: SourceKind,
    private readonly spec: SourceSpec,
    private readonly ptimeMs: number,
    private readonly plane: SourceHost,
  ) {}

  start(sink: PeriodSink, listener: SourceListener): Promise<SourceFormat> {
    this.gen = this.plane.nextGen();
    return this.plane.startSource(this.gen, this.spec, this.ptimeMs, sink, listener);
  }

  stop(): Promise<void> {
    return this.gen === 0 ? Promise.resolve() : this.plane.stopSource(this.gen);
  }
}
