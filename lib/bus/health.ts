/** How a node sees its cluster, for the metrics: a leaf, so that the edge reads it without the Redis bus. */
export interface ClusterHealth {
  /** True while Redis answers and this node is one with the others. */
  readonly busUp: boolean;
  /** The nodes alive at the last look, this one included: 1 while Redis is out of reach. */
  readonly nodes: number;
}
