/** The bundled YAML recipes: PTQ pipelines of Zhuo et al. 2022, ready to run or to copy and edit. */
module io.tinyptq.recipes {
    exports io.tinyptq.recipes;
}
