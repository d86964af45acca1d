/**
 * The page's results come in the JSON contract of @lenet/browser-protocol (shared with the
 * page, apps/web); re-exported here with the harness's own BrowserInfo.
 */
export type { BrowserResult, BrowserRun, BrowserTraining, LenetBenchPage, PageBackendRow, RunOptions, TrainRequest } from '@lenet/browser-protocol';
export { BrowserProtocolError, checkBrowserRun, checkBrowserTraining, familyOfPageBackend } from '@lenet/browser-protocol';

/** The browser that produced the results (from playwright and the page's user agent). */
export interface BrowserInfo {
  name: string;
  version: string;
  executable: string;
  headless: boolean;
  args: string[];
}
