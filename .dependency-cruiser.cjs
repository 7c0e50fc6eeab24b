/**
 * The shape of src/, kept by a tool: imports run one way (routes and the worker → the captions domain →
 * repositories and the GoAPI client), so no folder may import a folder that imports it back.
 * `npm run check:imports` (run in CI) fails when such a cycle comes back, type-only imports included:
 * a type that goes round in a loop is a loop all the same.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment:
        'Two folders that import each other are one concern split wrong, or a piece that wants its own home.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/generated/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
