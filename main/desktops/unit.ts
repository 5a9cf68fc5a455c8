import type { PhaseObserver } from "../actions/executor.js";
import { ActionService } from "../actions/service.js";
import { BrowserService } from "../browser/service.js";
import { DesktopService } from "../desktop/desktop.js";
import type { DisplayNumbers } from "../desktop/displays.js";
import { RecordingService } from "../desktop/recording/recorder.js";
import type { ProcessManager } from "../processes/manager.js";
import { StreamService } from "../stream/service.js";
import type { DesktopUnit } from "./types.js";

export interface UnitContext {
  processes: ProcessManager;
  displays: DisplayNumbers;
  /** the runtime's state directory */
  stateDir: string;
  recordingBudgetBytes?: number;
  /** bytes the other desktops' recordings hold of the one budget */
  recordingsElsewhere: () => number;
  streamHostAddresses?: string[];
  /** times each phase of a computer-use action (the metrics) */
  observeAction?: PhaseObserver;
}

/** A desktop's services, built concretely so the registry can stop them; the HTTP layer sees DesktopUnit. */
export class LocalDesktopUnit implements DesktopUnit {
  readonly desktop: DesktopService;
  readonly recordings: RecordingService;
  readonly stream: StreamService;
  readonly actions: ActionService;
  readonly browser: BrowserService;

  /**
   * `dir` holds its display's HOME, runtime log, recordings and browser profiles
   * (`<stateDir>/desktop` for the default, `<stateDir>/desktops/<id>` for the others).
   */
  constructor(
    readonly id: string,
    dir: string,
    browserDir: string,
    ctx: UnitContext,
  ) {
    const processes = ctx.processes.forDesktop(id);
    this.desktop = new DesktopService(processes, ctx.stateDir, { displays: ctx.displays, desktopStateDir: dir });
    this.recordings = new RecordingService(processes, this.desktop, { budgetBytes: ctx.recordingBudgetBytes, usedElsewhere: ctx.recordingsElsewhere });
    this.browser = new BrowserService(this.desktop, processes, browserDir);
    // the browser lives on the desktop's display: it goes before the display does
    this.desktop.beforeStop(async () => void (await this.browser.stop()));
    this.stream = new StreamService(this.desktop, processes, { defaultHostAddresses: ctx.streamHostAddresses });
    this.actions = new ActionService(this.desktop, ctx.observeAction);
  }

  /** Stops everything the desktop runs: recording, stream, browser, display. */
  async close(): Promise<void> {
    await this.recordings.close();
    await this.stream.shutdown().catch(() => undefined);
    await this.browser.stop().catch(() => undefined);
    await this.desktop.shutdown();
  }
}
