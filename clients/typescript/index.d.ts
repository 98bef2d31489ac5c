// Types of @empplay/client, written from the repository's
// schema/job.schema.json and schema/result.schema.json (tests/types.test.js
// fails when a property or an enumerated value of either is missing here,
// or one here is not in the schemas). The schemas also accept null for an
// optional job field (the worker reads it as absent); these types leave
// null out.

import type { Cluster, Redis } from 'ioredis';

/** What a sketch can read about the token it renders. */
export interface SketchContext {
  /** The token hash; seeds Math.random, random() and noise(). A fixed default when absent. */
  hash?: string;
  /** The workflow's variables, name to value. */
  variables?: Record<string, unknown>;
  /** Earlier workflow steps. */
  components?: Array<{ id?: string; nodeName?: string; nodeAlias?: string; nodeResponse?: unknown }>;
}

/** Fields every job has. */
export interface JobBase {
  /** Your own job id (1-200 bytes, no spaces, control characters or braces); else the SHA-256 of the bytes pushed. */
  id?: string;
  /** Viewport width in CSS pixels, 1-4096. */
  width: number;
  /** Viewport height in CSS pixels, 1-4096. */
  height: number;
  /** Azure Blob container: 3-63 lowercase letters, digits and single hyphens. */
  bucket: string;
  /** Blob name prefix (folders), relative, no . or .. segments. */
  prefix?: string;
  /** Blob file name, no slashes. */
  filename: string;
  /** How much GPU the job needs; medium and high route it to a GPU worker. */
  gpuComplexity?: '' | 'low' | 'medium' | 'high';
  /** GPU memory the job needs, MiB. */
  estimatedGPUMemory?: number;
  /** p5.js major version, "1" (the default) or "2". */
  p5Version?: '' | '1' | '2';
  /** Take the picture this many ms after setup() (p5) or the load event (js), 0-600000. */
  captureDelayMs?: number;
  /** Accept a fully transparent picture instead of failing with blank_canvas. */
  allowBlank?: boolean;
  /**
   * The files the code loads: the name it uses (data/tile.png, /fonts/a.otf
   * or a URL) mapped to the http(s) URL the worker fetches it from, on an
   * origin the worker allows.
   */
  assets?: Record<string, string>;
  /** The time a p5 or js page runs on: virtual (the default, the same picture every run) or real. */
  clock?: '' | 'virtual' | 'real';
  /** Lower this job's render deadline, ms. */
  timeoutMs?: number;
  /** A Redis list the result is also RPUSHed to (kept 24 h); not one of the queue's own keys (its list, or any key under its {name} hash tag). */
  replyTo?: string;
  /** Keep the output in Redis for 10 minutes instead of uploading it. */
  inline?: boolean;
  /** Fail with gpu_unavailable rather than render on the CPU. */
  requireGPU?: boolean;
  /** window.devicePixelRatio, 1-4; the PNG is width x height times it. */
  deviceScaleFactor?: number;
}

/** A p5.js sketch rendered to PNG. */
export interface P5Job extends JobBase {
  type: 'p5';
  /** The sketch, at most 2 MiB. */
  code: string;
  /** The sketch draws with WebGL. */
  usesWebGL?: boolean;
  context?: SketchContext;
  /** Take the picture after the draw() of this frame, 1-100000 (not with captureDelayMs). */
  captureFrames?: number;
  /** CSS selector of the canvas to capture. */
  captureSelector?: string;
}

/** An HTML/CSS/JavaScript page rendered to PNG and/or HTML (html or javascript is required). */
export interface JsJob extends JobBase {
  type: 'js';
  html?: string;
  css?: string;
  javascript?: string;
  /** png (the default), html, or both (the HTML beside the PNG). */
  outputType?: '' | 'png' | 'html' | 'both';
}

/** A p5.js sketch rendered to a video. */
export interface VideoJob extends JobBase {
  type: 'video';
  code: string;
  /** Seconds, more than 0 and at most 120. */
  duration: number;
  /** Frames per second, 1-60 with at most 3 decimals (50 for a GIF); 30 when absent. */
  fps?: number;
  /** mp4 (the default), webm or gif. */
  format?: '' | 'mp4' | 'webm' | 'gif';
}

/** A job as producers push it. */
export type Job = P5Job | JsJob | VideoJob;

/** A stable reason a job failed; a later version may add codes. */
export type ErrorCode =
  | 'invalid_json' | 'unknown_type' | 'missing_field' | 'invalid_field' | 'size_out_of_range' | 'code_too_large'
  | 'invalid_bucket' | 'invalid_path' | 'unsupported'
  | 'sketch_error' | 'render_timeout' | 'no_canvas' | 'blank_canvas' | 'missing_addon' | 'webgl_unavailable'
  | 'network_blocked' | 'asset_unavailable' | 'memory_limit' | 'output_too_large'
  | 'browser_error' | 'storage_error' | 'cdn_error' | 'encoder_error' | 'internal_error' | 'gpu_unavailable'
  | 'max_attempts';

/** Milliseconds each phase of a job took. */
export interface Timings {
  queuedMs?: number;
  renderMs?: number;
  uploadMs?: number;
  verifyMs?: number;
  totalMs: number;
  /** Files the job loaded that came from the worker's cache. */
  assetHits?: number;
  /** Files the job loaded that were fetched from the network. */
  assetMisses?: number;
}

/** The outcome of one job. */
export interface Result {
  success: boolean;
  /** URL of the main output (absent when failed or inline). */
  src?: string;
  /** js with outputType both: URL of the HTML. */
  htmlSrc?: string;
  mimeType?: string;
  error?: string;
  id: string;
  errorCode?: ErrorCode;
  /** The failure was transient, but the attempts ran out. */
  retryable?: boolean;
  attempts?: number;
  type?: string;
  worker?: string;
  bytes?: number;
  sha256?: string;
  inline?: boolean;
  width?: number;
  height?: number;
  /** draw, setup, frames, delay, fxpreview, capture, load or deadline. */
  trigger?: string;
  triggerMs?: number;
  /** The p5 frame (frameCount) the picture was taken at, when known. */
  frame?: number;
  renderer?: string;
  blank?: boolean;
  warnings?: string[];
  posterSrc?: string;
  duration?: number;
  frames?: number;
  /** Absent from a result written when the job ran out of attempts. */
  timings?: Timings;
  /** RFC 3339. */
  finishedAt?: string;
}

/** The queue producers push to when REDIS_QUEUE_NAME is not set. */
export declare const DEFAULT_QUEUE: 'playwright-jobs';

/** The Redis keys of the queue called name. */
export declare function queueKeys(name?: string): {
  pending: string;
  result(id: string): string;
  done(id: string): string;
  output(id: string): string;
  results: string;
};

/** The bytes a job is pushed as: a string as UTF-8, bytes as they are, anything else as JSON.stringify writes it. */
export declare function encodeJob(job: Job | string | Uint8Array | object): Buffer;

/** The id the worker derives for the payload: its valid string id field, else the hex SHA-256 of the exact bytes. */
export declare function jobId(payload: Job | string | Uint8Array | object): string;

/** No result arrived within the wait's timeout; the job stays queued. */
export declare class WaitTimeoutError extends Error {
  readonly id: string;
  readonly timeout: number;
}

export interface ClientOptions {
  /** A connection to use; the client does not close it. */
  redis?: Redis | Cluster;
  /** A Redis URL when no connection is given [REDIS_URL, else redis://127.0.0.1:6379/0]. */
  url?: string;
  /** The queue's name [REDIS_QUEUE_NAME, else playwright-jobs]. */
  queue?: string;
}

export interface WaitOptions {
  /** Milliseconds [120000]. */
  timeout?: number;
}

/** A producer of one queue. */
export declare class Client {
  constructor(options?: ClientOptions);
  readonly queue: string;
  /** LPUSHes the job and returns its id. */
  submit(job: Job | string | Uint8Array): Promise<string>;
  /** The stored result, or null when there is none (yet). */
  result(id: string): Promise<Result | null>;
  /** The bytes of an inline job's output while they are kept, or null. */
  output(id: string): Promise<Buffer | null>;
  /** Waits for the result; rejects with WaitTimeoutError after the timeout. */
  wait(id: string, options?: WaitOptions): Promise<Result>;
  /** Submits the job and waits for its result. */
  render(job: Job | string | Uint8Array, options?: WaitOptions): Promise<Result>;
  /** Closes the connections the client opened. */
  close(): Promise<void>;
}
