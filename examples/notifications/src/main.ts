// What `exactly run` loads: the processor, on the topics named by EXACTLY_TOPIC_SUFFIX (empty by default).
import { notifications } from './processor.js';

export default notifications(process.env.EXACTLY_TOPIC_SUFFIX ?? '');
