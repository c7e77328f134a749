import { reads, writes } from '../../../protocol/method-table.js'

/**
 * The store domain's callable methods and their kinds (src/protocol/method-table.ts). The engine
 * half serves them as `store` (src/domains/store/engine/store-engine.ts).
 */
export const storeMethods = {
  store: {
    ...reads(
      'getRun', 'listRuns', 'getPipeline', 'listPipelines', 'getChain', 'chainsForPipeline', 'chainSummaries',
      'getPrediction', 'queryPredictions', 'topPredictions',
      'getArtifact', 'loadArtifact', 'findCachedArtifact', 'listArtifacts',
      'pipelineLog', 'runLogSummary',
      'arraysLoad', 'arraysStats', 'arraysDatasets',
      'projectList', 'projectGet', 'projectGetByName', 'schemaVersion',
    ),
    ...writes(
      'beginRun', 'completeRun', 'failRun', 'beginPipeline', 'completePipeline', 'failPipeline', 'saveChain',
      'savePredictions', 'deletePrediction', 'deleteRun', 'deleteDatasetPredictions',
      'saveArtifact', 'gcArtifacts', 'setArtifactCacheKey', 'invalidateDatasetCache',
      'logStep', 'arraysCompact',
      'projectCreate', 'projectUpdate', 'projectDelete', 'setRunProject', 'projectGetOrCreate',
    ),
  },
} as const
