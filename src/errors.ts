/**
 * Error classes that cross module boundaries. The CLI's single top-level catch maps
 * them to exit codes: bad input of any kind (config, data files, unavailable backend,
 * a run folder that would be overwritten) is 2; anything else is a bug and exits 1.
 */
export class XrunError extends Error {
  readonly exitCode: number = 2;
  /** What the user can do about it, printed after the message. */
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** A problem at a place in an input file, printed as `file:line:col: message`. */
export interface Diagnostic {
  file: string;
  /** 1-based; 0 when the place is unknown. */
  line: number;
  /** 1-based; 0 when the place is unknown. */
  col: number;
  message: string;
  /** The offending source line, for the caret display. */
  source?: string;
  /** Width of the caret underline. */
  length?: number;
}

/** The experiment file (or a --set override) is invalid: YAML syntax or schema. */
export class ConfigError extends XrunError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[], options: { hint?: string } = {}) {
    super(`${diagnostics.length} problem(s) in ${diagnostics[0]?.file ?? 'the experiment'}`, options);
    this.diagnostics = diagnostics;
  }
}

/** Wrong command-line usage. */
export class UsageError extends XrunError {}

/** A dataset file is missing, truncated or not what it claims to be. */
export class DataError extends XrunError {}

/** The requested compute backend cannot be loaded. */
export class BackendError extends XrunError {}

/** A run folder holds results of a different config, or is otherwise unusable. */
export class RunStoreError extends XrunError {}
