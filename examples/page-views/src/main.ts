// What `exactly run` loads: the processor, on the topics named by EXACTLY_TOPIC_SUFFIX (empty by default).
import { pageViews } from './processor.js';

export default pageViews(process.env.EXACTLY_TOPIC_SUFFIX ?? '');
