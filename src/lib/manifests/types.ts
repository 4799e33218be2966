/** The loader's public types: documents with lazily computed source positions, and problems as values. */

/** 1-based line and column (column in UTF-16 code units). */
export interface SourcePosition {
  line: number;
  column: number;
}

export type ManifestPath = readonly (string | number)[];

export interface ManifestDocument {
  /** 0-based index of the document in its file (counting broken documents too). */
  readonly index: number;
  /** Line of the document's first content (not its `---`); of the `---` for an empty document. */
  readonly line: number;
  /** Plain JS value: objects, arrays, strings, numbers, booleans, null. */
  readonly value: unknown;
  /**
   * Position of the field at `path`: for a mapping entry the position of its KEY (the line a
   * reader looks for: `privileged: true`), for a sequence item the start of the item (after `- `),
   * for `[]` the document's first content. When the path does not exist, the position of its
   * nearest existing parent with `exact: false`.
   */
  locate(path: ManifestPath): SourcePosition & { exact: boolean };
}

export interface ManifestProblem {
  line: number;
  column: number;
  message: string;
  hint?: string;
  /** Index of the broken document, when the problem belongs to one. */
  documentIndex?: number;
}

export interface ParsedManifests {
  documents: ManifestDocument[];
  problems: ManifestProblem[];
}
